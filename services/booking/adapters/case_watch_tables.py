"""The case watch's tables: the decision applied per call, decisions ignored, and what the watchdog fired.

Each watchdog table is its own compare-and-set: a primary key or a conditional update, so a restart or a
second replica never fires one escalation twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from shared.db import UtcDateTime


class CallDecision(SQLModel, table=True):
    """The newest triage decision booking applied for a call (issue 13: re-triage applied in order)."""

    __tablename__ = "booking_call_decisions"

    call_id: uuid.UUID = Field(primary_key=True)
    event_id: uuid.UUID  # the call.triaged applied
    decision_sequence: int | None = None  # None: a producer without sequences, ordered by decided_at
    decided_at: datetime = Field(sa_type=UtcDateTime)
    triage_code: str | None = None
    applied_at: datetime = Field(sa_type=UtcDateTime)


class IgnoredDecision(SQLModel, table=True):
    """A call.triaged booking did not apply: overtaken by a newer decision, or that decision again."""

    __tablename__ = "booking_ignored_decisions"

    event_id: uuid.UUID = Field(primary_key=True)
    call_id: uuid.UUID = Field(index=True)
    decision_sequence: int | None = None
    decided_at: datetime = Field(sa_type=UtcDateTime)
    ordering: str  # older | repeat (domain.decisions.Ordering)
    applied_event_id: uuid.UUID
    applied_sequence: int | None = None
    ignored_at: datetime = Field(sa_type=UtcDateTime)


class WaitlistWatch(SQLModel, table=True):
    """When the watch looks again at a waiting case, and what it sent."""

    __tablename__ = "booking_waitlist_watch"
    __table_args__ = (Index("ix_booking_waitlist_watch_due", "next_check_at"),)

    entry_id: uuid.UUID = Field(primary_key=True, foreign_key="booking_waitlist.entry_id")
    next_check_at: datetime = Field(sa_type=UtcDateTime)
    escalations: int = 0
    breach_escalated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class OutcomeReview(SQLModel, table=True):
    """An appointment escalated for a missing outcome: the row is the claim (once per appointment)."""

    __tablename__ = "booking_outcome_reviews"

    appointment_id: uuid.UUID = Field(primary_key=True, foreign_key="booking_appointments.appointment_id")
    escalated_at: datetime = Field(sa_type=UtcDateTime)


WATCH_TABLES = (
    CallDecision.__table__,  # type: ignore[attr-defined]
    IgnoredDecision.__table__,  # type: ignore[attr-defined]
    WaitlistWatch.__table__,  # type: ignore[attr-defined]
    OutcomeReview.__table__,  # type: ignore[attr-defined]
)
