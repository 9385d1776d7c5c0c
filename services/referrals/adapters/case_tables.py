"""The case-order tables: the newest triage decision applied per call, and every decision not applied.

No patient identity: ids, sequences, codes and instants only.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.db import UtcDateTime


class CallDecision(SQLModel, table=True):
    """The newest triage decision referrals applied for a call; its code is the episode's risk."""

    __tablename__ = "referrals_call_decisions"

    call_id: uuid.UUID = Field(primary_key=True)
    correlation_id: uuid.UUID = Field(index=True)
    event_id: uuid.UUID  # the call.triaged applied
    decision_sequence: int | None = None  # None: a producer without sequences, ordered by decided_at
    decided_at: datetime = Field(sa_type=UtcDateTime)
    triage_code: str | None = None
    disposition: str
    applied_at: datetime = Field(sa_type=UtcDateTime)


class IgnoredDecision(SQLModel, table=True):
    """A call.triaged referrals did not apply (older than, or the same as, the one applied) and why."""

    __tablename__ = "referrals_ignored_decisions"

    event_id: uuid.UUID = Field(primary_key=True)
    call_id: uuid.UUID = Field(index=True)
    decision_sequence: int | None = None
    decided_at: datetime = Field(sa_type=UtcDateTime)
    triage_code: str | None = None
    disposition: str
    ordering: str  # older | repeat (domain.decisions.Ordering)
    applied_event_id: uuid.UUID
    applied_sequence: int | None = None
    ignored_at: datetime = Field(sa_type=UtcDateTime)


CASE_TABLES = (
    CallDecision.__table__,  # type: ignore[attr-defined]
    IgnoredDecision.__table__,  # type: ignore[attr-defined]
)
