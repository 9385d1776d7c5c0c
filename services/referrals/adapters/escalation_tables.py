"""Referrals' escalation tables: each escalation with its owner, state and ladder rung, and its history.

No patient identity: rows name the episode (correlation_id) and opaque ids only.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from shared.db import UtcDateTime


class Escalation(SQLModel, table=True):
    __tablename__ = "escalations"
    __table_args__ = (
        Index("ix_escalations_ladder", "state", "acknowledge_by"),
        Index("ix_escalations_owner", "owner", "state"),
        Index("ix_escalations_target", "target", "state"),
    )

    escalation_id: uuid.UUID = Field(primary_key=True)
    correlation_id: uuid.UUID = Field(index=True)
    pcn_code: str
    practice_ods: str
    first_target: str
    target: str
    reason: str
    raised_at: datetime = Field(sa_type=UtcDateTime)
    raised_by: str
    acknowledge_by: datetime = Field(sa_type=UtcDateTime)
    call_id: uuid.UUID | None = None
    appointment_id: uuid.UUID | None = None
    referral_id: uuid.UUID | None = None
    due_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    rung: int = 0
    owner: str | None = None
    state: str = "open"
    acknowledged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acknowledged_by: str | None = None
    resolved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    resolved_by: str | None = None
    outcome: str | None = None
    note: str | None = Field(default=None, max_length=200)
    last_event_id: uuid.UUID
    # Compare-and-set: every stored change names the version it read and bumps it.
    version: int = 0


class EscalationHistory(SQLModel, table=True):
    __tablename__ = "escalation_history"

    escalation_id: uuid.UUID = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    at: datetime = Field(sa_type=UtcDateTime)
    step: str
    rung: int
    target: str
    owner: str | None = None
    by: str | None = None


ESCALATION_TABLES = (
    Escalation.__table__,  # type: ignore[attr-defined]
    EscalationHistory.__table__,  # type: ignore[attr-defined]
)
