"""The facts the projections hold: one per call, appointment, session, escalation, referral and signpost.

Fields mirror the projection columns (stored values, e.g. a `Channel` value as its string), so a fact and
its row convert one to one. No patient identity anywhere.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from services.metrics.domain.kinds import FactKind


@dataclass
class CallFact:
    call_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    channel: str | None = None
    caller_urgency: str | None = None
    age_band: str | None = None
    received_at: datetime | None = None
    first_triaged_at: datetime | None = None
    triaged_at: datetime | None = None
    triage_code: str | None = None
    decision_sequence: int | None = None
    disposition: str | None = None
    respond_by: datetime | None = None
    out_of_scope_reason: str | None = None
    destination: str | None = None
    waitlisted_at: datetime | None = None


@dataclass
class AppointmentFact:
    appointment_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    call_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    appointment_type: str | None = None
    booked_by: str | None = None
    booked_at: datetime | None = None
    starts_at: datetime | None = None
    minutes: int | None = None
    respond_by: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    outcome: str | None = None  # an AppointmentOutcome
    attendance: str | None = None
    outcome_at: datetime | None = None
    next_step: str | None = None
    dna_follow_up: str | None = None
    dna_followed_up_at: datetime | None = None


@dataclass
class SessionFact:
    session_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    session_date: date | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    cancelled_at: datetime | None = None


@dataclass
class EscalationFact:
    """One escalation however far it climbed: raised once (`occurred_at`, `reason` of its first rung), owned
    now by the `target` of its highest rung. Empty until its `case.escalated` arrives (an acknowledgement
    may overtake it)."""

    escalation_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    occurred_at: datetime | None = None
    reason: str | None = None
    target: str | None = None
    call_id: uuid.UUID | None = None
    due_at: datetime | None = None
    rung: int = 0
    acknowledge_by: datetime | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    outcome: str | None = None


@dataclass
class ReferralFact:
    referral_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    destination: str | None = None
    made_at: datetime | None = None
    previous_referral_id: uuid.UUID | None = None
    accepted_at: datetime | None = None
    declined_at: datetime | None = None
    completed_at: datetime | None = None
    withdrawn_at: datetime | None = None


@dataclass
class SignpostFact:
    signpost_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    occurred_at: datetime
    destination: str
    outcome: str
    out_of_scope_reason: str | None = None


Fact = CallFact | AppointmentFact | SessionFact | EscalationFact | ReferralFact | SignpostFact

FACT_CLASSES: dict[FactKind, type[Any]] = {
    FactKind.CALL: CallFact,
    FactKind.APPOINTMENT: AppointmentFact,
    FactKind.SESSION: SessionFact,
    FactKind.ESCALATION: EscalationFact,
    FactKind.REFERRAL: ReferralFact,
    FactKind.SIGNPOST: SignpostFact,
}
KEY_FIELD: dict[FactKind, str] = {kind: fields(cls)[0].name for kind, cls in FACT_CLASSES.items()}
"""Each fact's primary key is its first field."""


def fact_row(fact: Fact) -> dict[str, Any]:
    return {f.name: getattr(fact, f.name) for f in fields(fact)}


def fact_from_row(kind: FactKind, row: Any) -> Any:
    """A fact from a mapping or an object with the fact's field names."""
    cls = FACT_CLASSES[kind]
    get = row.__getitem__ if isinstance(row, dict) else lambda name: getattr(row, name)
    return cls(**{f.name: get(f.name) for f in fields(cls)})


@dataclass
class Facts:
    """Every fact the return needs for one scope (calls are looked up by id for the channel)."""

    calls: list[CallFact] = field(default_factory=list)
    appointments: list[AppointmentFact] = field(default_factory=list)
    sessions: list[SessionFact] = field(default_factory=list)
    escalations: list[EscalationFact] = field(default_factory=list)
    referrals: list[ReferralFact] = field(default_factory=list)
    signposts: list[SignpostFact] = field(default_factory=list)

    def add(self, fact: Fact) -> None:
        self._list(fact).append(fact)

    def _list(self, fact: Fact) -> list[Any]:
        match fact:
            case CallFact():
                return self.calls
            case AppointmentFact():
                return self.appointments
            case SessionFact():
                return self.sessions
            case EscalationFact():
                return self.escalations
            case ReferralFact():
                return self.referrals
            case SignpostFact():
                return self.signposts

    def all(self) -> list[Fact]:
        return [
            *self.calls,
            *self.appointments,
            *self.sessions,
            *self.escalations,
            *self.referrals,
            *self.signposts,
        ]


def group_by_pcn(facts: list[Fact]) -> dict[str, Facts]:
    out: dict[str, Facts] = {}
    for fact in facts:
        out.setdefault(fact.pcn_code, Facts()).add(fact)
    return dict(sorted(out.items()))


def split_by_practice(facts: Facts) -> dict[str, Facts]:
    """One Facts per practice; calls stay whole so an appointment at one practice finds its call's channel."""
    out: dict[str, Facts] = {}
    for fact in facts.all():
        out.setdefault(fact.practice_ods, Facts()).add(fact)
    return dict(sorted(out.items()))
