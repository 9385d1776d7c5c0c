"""Metrics tables: the redacted event archive and one projection table per fact. No patient identity."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from services.metrics.adapters.kept_tables import KEPT_TABLES
from services.metrics.domain.kinds import FactKind
from shared.db import UtcDateTime


class ArchivedEventRow(SQLModel, table=True):
    """Append-only: every consumed event, redacted, in consumption order (`seq`); rebuilds replay it."""

    __tablename__ = "metrics_archive"

    seq: int | None = Field(default=None, primary_key=True)
    event_id: uuid.UUID = Field(unique=True)
    event_type: str
    occurred_at: datetime = Field(sa_type=UtcDateTime)
    correlation_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    data: str = Field(sa_column=Column(Text, nullable=False))


class CallRow(SQLModel, table=True):
    __tablename__ = "metrics_calls"
    __table_args__ = (Index("ix_metrics_calls_pcn", "pcn_code", "practice_ods"),)

    call_id: uuid.UUID = Field(primary_key=True)
    pcn_code: str
    practice_ods: str
    channel: str | None = None
    caller_urgency: str | None = None
    age_band: str | None = None
    received_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    first_triaged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    triaged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    triage_code: str | None = None
    decision_sequence: int | None = None
    disposition: str | None = None
    respond_by: datetime | None = Field(default=None, sa_type=UtcDateTime)
    out_of_scope_reason: str | None = None
    destination: str | None = None
    waitlisted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class AppointmentRow(SQLModel, table=True):
    __tablename__ = "metrics_appointments"
    __table_args__ = (
        Index("ix_metrics_appointments_pcn", "pcn_code", "practice_ods"),
        # A call's appointments decide when it was seen (kept figures, issue 17).
        Index("ix_metrics_appointments_call", "call_id"),
    )

    appointment_id: uuid.UUID = Field(primary_key=True)
    pcn_code: str
    practice_ods: str
    call_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    appointment_type: str | None = None
    booked_by: str | None = None
    booked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    starts_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    minutes: int | None = None
    respond_by: datetime | None = Field(default=None, sa_type=UtcDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    cancelled_by: str | None = None
    outcome: str | None = None
    attendance: str | None = None
    outcome_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    next_step: str | None = None
    dna_follow_up: str | None = None
    dna_followed_up_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SessionRow(SQLModel, table=True):
    __tablename__ = "metrics_sessions"
    __table_args__ = (Index("ix_metrics_sessions_pcn", "pcn_code", "practice_ods"),)

    session_id: uuid.UUID = Field(primary_key=True)
    pcn_code: str
    practice_ods: str
    session_date: date | None = None
    starts_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    ends_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class EscalationRow(SQLModel, table=True):
    __tablename__ = "metrics_escalations"
    __table_args__ = (
        Index("ix_metrics_escalations_pcn", "pcn_code", "occurred_at"),
        # The trust view reads the open ones (not resolved) as of now.
        Index("ix_metrics_escalations_resolved", "resolved_at"),
    )

    escalation_id: uuid.UUID = Field(primary_key=True)
    pcn_code: str
    practice_ods: str
    # Null until its case.escalated arrives: an acknowledgement or resolution may overtake it.
    occurred_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    reason: str | None = None
    target: str | None = None
    call_id: uuid.UUID | None = None
    due_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    rung: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    acknowledge_by: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    outcome: str | None = None


class ReferralRow(SQLModel, table=True):
    __tablename__ = "metrics_referrals"
    __table_args__ = (Index("ix_metrics_referrals_pcn", "pcn_code", "practice_ods"),)

    referral_id: uuid.UUID = Field(primary_key=True)
    pcn_code: str
    practice_ods: str
    destination: str | None = None
    made_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    previous_referral_id: uuid.UUID | None = None
    accepted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    declined_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SignpostRow(SQLModel, table=True):
    __tablename__ = "metrics_signposts"
    __table_args__ = (Index("ix_metrics_signposts_pcn", "pcn_code", "practice_ods"),)

    signpost_id: uuid.UUID = Field(primary_key=True)
    pcn_code: str
    practice_ods: str
    occurred_at: datetime = Field(sa_type=UtcDateTime)
    destination: str
    outcome: str
    out_of_scope_reason: str | None = None


PROJECTIONS: dict[FactKind, type[SQLModel]] = {
    FactKind.CALL: CallRow,
    FactKind.APPOINTMENT: AppointmentRow,
    FactKind.SESSION: SessionRow,
    FactKind.ESCALATION: EscalationRow,
    FactKind.REFERRAL: ReferralRow,
    FactKind.SIGNPOST: SignpostRow,
}
"""Projection table per fact kind; each table's columns are its fact's fields (`domain.facts`)."""

TABLES = (
    ArchivedEventRow.__table__,  # type: ignore[attr-defined]
    *(model.__table__ for model in PROJECTIONS.values()),  # type: ignore[attr-defined]
    *KEPT_TABLES,
)
