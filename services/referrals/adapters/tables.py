"""Referrals' own tables: referrals and their chain, signposting records, DNA follow-ups and episodes.

Status and code columns hold the domain enums' values. No patient identity is held here: every row
refers to the episode (correlation_id) and opaque ids.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from services.referrals.adapters.case_tables import CASE_TABLES
from services.referrals.adapters.escalation_tables import ESCALATION_TABLES
from shared.db import UtcDateTime


class Referral(SQLModel, table=True):
    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_open", "pcn_code", "status", "made_at"),
        Index("ix_referrals_chase", "status", "chased_at", "response_due_at"),
    )

    referral_id: uuid.UUID = Field(primary_key=True)
    # The first referral of a re-routing chain; every service the chain tried shares it.
    root_referral_id: uuid.UUID = Field(index=True)
    previous_referral_id: uuid.UUID | None = None
    correlation_id: uuid.UUID = Field(index=True)
    pcn_code: str
    practice_ods: str
    call_id: uuid.UUID | None = None
    appointment_id: uuid.UUID | None = None
    destination: str
    service_code: str | None = None
    status: str
    # The event that led to this referral (call.triaged, appointment.attended or a decline): never twice.
    source_event_id: uuid.UUID = Field(unique=True)
    made_event_id: uuid.UUID | None = None
    made_at: datetime = Field(sa_type=UtcDateTime)
    response_due_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    declined_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    decline_reason: str | None = Field(default=None, max_length=200)
    rerouted_to: uuid.UUID | None = None
    redirected_by: str | None = None
    bounce_escalation_event_id: uuid.UUID | None = None
    # Set once, with the referral_unanswered case.escalated, in one transaction: it never fires twice.
    chased_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    chase_event_id: uuid.UUID | None = None
    # Set when a re-triage replaced the decision that made it (status withdrawn, referral.withdrawn sent).
    withdrawn_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    withdrawal_event_id: uuid.UUID | None = None


class Signpost(SQLModel, table=True):
    __tablename__ = "referrals_signposts"

    signpost_id: uuid.UUID = Field(primary_key=True)
    source_event_id: uuid.UUID = Field(unique=True)
    correlation_id: uuid.UUID = Field(index=True)
    pcn_code: str
    practice_ods: str
    call_id: uuid.UUID | None = None
    appointment_id: uuid.UUID | None = None
    destination: str
    outcome: str
    out_of_scope_reason: str | None = None
    recorded_at: datetime = Field(sa_type=UtcDateTime)
    event_id: uuid.UUID


class DnaFollowUp(SQLModel, table=True):
    __tablename__ = "dna_follow_ups"
    __table_args__ = (
        Index("ix_dna_follow_ups_open", "pcn_code", "status", "due_at"),
        Index("ix_dna_follow_ups_watchdog", "status", "escalated_at", "due_at"),
    )

    follow_up_id: uuid.UUID = Field(primary_key=True)
    # One follow-up per missed appointment, however often the DNA is re-sent.
    appointment_id: uuid.UUID = Field(unique=True)
    dna_event_id: uuid.UUID
    correlation_id: uuid.UUID = Field(index=True)
    pcn_code: str
    practice_ods: str
    attendance: str
    opened_at: datetime = Field(sa_type=UtcDateTime)
    due_at: datetime = Field(sa_type=UtcDateTime)
    status: str = "open"
    outcome: str | None = None
    outcome_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    recorded_by: str | None = None
    signposted_to: str | None = None
    outcome_event_id: uuid.UUID | None = None
    escalated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    escalation_event_id: uuid.UUID | None = None
    # The case's triage code when opened (None: not triaged here): it set due_at.
    triage_code: str | None = None


class DnaEpisode(SQLModel, table=True):
    """DNAs counted per episode, so the GP is told of a repeated DNA once."""

    __tablename__ = "dna_episodes"

    correlation_id: uuid.UUID = Field(primary_key=True)
    dna_count: int = 0
    gp_notified_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    gp_notice_event_id: uuid.UUID | None = None
    # A high-risk case: the clinical lead told at the first missed appointment, once.
    lead_notified_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    lead_notice_event_id: uuid.UUID | None = None


TABLES = (
    Referral.__table__,  # type: ignore[attr-defined]
    Signpost.__table__,  # type: ignore[attr-defined]
    DnaFollowUp.__table__,  # type: ignore[attr-defined]
    DnaEpisode.__table__,  # type: ignore[attr-defined]
    *CASE_TABLES,
    *ESCALATION_TABLES,
)
