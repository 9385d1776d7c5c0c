"""Triage's own tables. This service holds patient identity because the MHP needs it to call back."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from shared.db import UtcDateTime

SEQUENCE_INDEX = "ux_triage_decisions_call_sequence"


class TriageCall(SQLModel, table=True):
    __tablename__ = "triage_calls"
    __table_args__ = (
        Index("ix_triage_calls_worklist", "status", "pcn_code", "priority", "received_at"),
        Index("ix_triage_calls_watchdog", "status", "escalated_at", "callback_due_at"),
    )

    call_id: uuid.UUID = Field(primary_key=True)
    correlation_id: uuid.UUID = Field(index=True)
    received_event_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    channel: str
    caller_urgency: str
    reason: str = Field(sa_column=Column(Text, nullable=False))
    nhs_number: str
    date_of_birth: date
    received_at: datetime = Field(sa_type=UtcDateTime)
    red_flags: bool = False
    # 0 = red flags, 1 = caller says urgent, 2 = the rest; lower comes first in the worklist.
    priority: int = 2
    status: str = "awaiting_triage"
    latest_decision_id: uuid.UUID | None = None
    # The current decision's place in the call's sequence (0 before the first); see TriageDecision.
    # A server default, so migration 0004 adds it to a table others reference without rebuilding it.
    decision_sequence: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Set at intake from the PCN's callback target in working time; the watchdog escalates past it.
    callback_due_at: datetime = Field(sa_type=UtcDateTime)
    # Set once, in the same transaction as the duty-GP case.escalated, so it never fires twice.
    escalated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    escalation_event_id: uuid.UUID | None = None
    # Set once, at intake, with the case.escalated of a red-flag call arriving out of working hours.
    out_of_hours_escalated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    out_of_hours_escalated_to: str | None = None
    out_of_hours_escalation_event_id: uuid.UUID | None = None


class TriageDecision(SQLModel, table=True):
    """Every decision is kept: a re-triage supersedes the earlier one but never deletes it."""

    __tablename__ = "triage_decisions"
    # One decision per place in a call's sequence: two re-triages can never both become number n.
    __table_args__ = (Index(SEQUENCE_INDEX, "call_id", "decision_sequence", unique=True),)

    decision_id: uuid.UUID = Field(primary_key=True)
    call_id: uuid.UUID = Field(foreign_key="triage_calls.call_id", index=True)
    event_id: uuid.UUID
    triage_code: str
    disposition: str
    respond_by: datetime | None = Field(default=None, sa_type=UtcDateTime)
    modality: str | None = None
    appointment_minutes: int | None = None
    out_of_scope_reason: str | None = None
    clinician: str
    decided_at: datetime = Field(sa_type=UtcDateTime)
    supersedes: uuid.UUID | None = None
    superseded_by: uuid.UUID | None = None
    destination: str | None = None
    # NHS Data Dictionary MENTAL HEALTH DROP IN CONTACT OUTCOME (set when no MHP appointment follows).
    contact_outcome: str | None = None
    complex_needs: bool = False
    escalation_event_id: uuid.UUID | None = None
    # 1 for the call's first decision, one more per re-triage: published, so consumers apply the newest.
    decision_sequence: int
    # The risk formulation stays here: least data, it is never put in an event.
    risk_summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    risk_thoughts: bool | None = None
    risk_plan: bool | None = None
    risk_means: bool | None = None
    risk_intent: bool | None = None
    risk_history: bool | None = None
    risk_protective_factors: bool | None = None
    risk_safeguarding_concerns: bool | None = None


TABLES = (TriageCall.__table__, TriageDecision.__table__)  # type: ignore[attr-defined]
