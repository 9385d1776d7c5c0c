"""What each fact adds to the monthly figures, so that figures are kept as events arrive (issue 17).

A fact's contribution is its share of the counters per (scope, month, figure), its samples for the medians,
its deadline case and its waiting case. When an event changes a fact, the stored contribution is replaced
by the new one and only the difference is applied, so a late event corrects the month it belongs to. The
definitions are those of `figures.py`, `deadlines.py` and `escalation_figures.py`, applied to one fact.
Scope is a practice's ODS code, or `PCN_SCOPE` for the PCN total.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.metrics.domain.calendar import month_of, month_of_day
from services.metrics.domain.deadlines import APPOINTMENT_DISPOSITIONS, first_live_appointment
from services.metrics.domain.facts import (
    FACT_CLASSES,
    KEY_FIELD,
    AppointmentFact,
    CallFact,
    EscalationFact,
    Fact,
    ReferralFact,
    SessionFact,
    SignpostFact,
)
from services.metrics.domain.figures import (
    ADMIN_SLOT,
    APPOINTMENT_CODES,
    GP_RELEASING_CHANNELS,
    UNKNOWN_CHANNEL,
    median,
    minutes_between,
)
from services.metrics.domain.kinds import AppointmentOutcome, DeadlineStatus
from shared.contracts.codes import AppointmentType, CancelledBy, Channel, Disposition, TriageCode

KIND_OF = {cls: kind for kind, cls in FACT_CLASSES.items()}

PCN_SCOPE = ""
"""The scope of a PCN's total (a practice's scope is its ODS code)."""

TRIAGE_CODES = frozenset(code.value for code in TriageCode)

BOOKABLE_MICROSECONDS = "capacity.bookable_us"
"""Bookable time kept in whole microseconds: integer sums do not depend on the order events arrive in."""

Bucket = tuple[str, str, str]
"""(scope, month, name)."""


@dataclass(frozen=True)
class DeadlineCase:
    """A C-E call due in `month`: `before` until `transition_at`, `after` from then on (from the instant
    itself when `inclusive`, else from one moment after it), the two-state form of `deadline_status`."""

    call_id: uuid.UUID
    pcn_code: str
    scope: str
    month: str
    code: str
    before: str
    after: str
    transition_at: datetime
    inclusive: bool

    def status(self, as_of: datetime) -> str:
        passed = as_of >= self.transition_at if self.inclusive else as_of > self.transition_at
        return self.after if passed else self.before


@dataclass(frozen=True)
class WaitingEntry:
    """A call whose latest decision is an appointment: waiting while `first_starts_at` has not come."""

    call_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    respond_by: datetime
    first_starts_at: datetime | None
    waitlisted: bool
    waiting_since: datetime | None


@dataclass
class Contribution:
    counts: dict[Bucket, int] = field(default_factory=dict)
    samples: dict[Bucket, float] = field(default_factory=dict)
    deadline: DeadlineCase | None = None
    waiting: WaitingEntry | None = None

    def count(self, scopes: Iterable[str], month: str | None, name: str, value: int = 1) -> None:
        if month is None or value == 0:
            return
        for scope in scopes:
            self.counts[(scope, month, name)] = self.counts.get((scope, month, name), 0) + value

    def sample(self, scopes: Iterable[str], month: str | None, name: str, value: float) -> None:
        if month is not None:
            for scope in scopes:
                self.samples[(scope, month, name)] = value


def count_delta(old: Contribution | None, new: Contribution) -> dict[Bucket, int]:
    """What to add to the stored counters to replace `old` by `new` (zero changes left out)."""
    delta = dict(new.counts)
    for bucket, value in (old.counts if old else {}).items():
        delta[bucket] = delta.get(bucket, 0) - value
    return {bucket: value for bucket, value in delta.items() if value != 0}


def changed_samples(old: Contribution | None, new: Contribution) -> set[Bucket]:
    """The median buckets whose samples differ between `old` and `new`."""
    before = old.samples if old else {}
    return {b for b in before.keys() | new.samples.keys() if before.get(b) != new.samples.get(b)}


def _scopes(fact: Fact) -> tuple[str, str]:
    return (fact.practice_ods, PCN_SCOPE)


def appointment_contribution(a: AppointmentFact, call: CallFact | None) -> Contribution:
    """`call`: the appointment's call when it is of the same PCN (the figures look calls up per PCN)."""
    out, scopes = Contribution(), _scopes(a)
    if call is None or call.channel is None:
        channel = Channel.DIRECT_BOOKING.value if a.call_id is None else UNKNOWN_CHANNEL
    else:
        channel = call.channel
    outcome_month = month_of(a.outcome_at)
    if a.outcome == AppointmentOutcome.ATTENDED:
        out.count(scopes, outcome_month, "attendance.attended")
        if a.appointment_type == AppointmentType.INITIAL_ASSESSMENT:
            out.count(scopes, outcome_month, f"initial_assessments.{channel}")
            out.count(scopes, outcome_month, "initial_assessments.total")
            if channel in GP_RELEASING_CHANNELS:
                out.count(scopes, outcome_month, "gp_appointments_released")
        elif a.appointment_type == AppointmentType.SECOND_ASSESSMENT:
            out.count(scopes, outcome_month, "second_assessments")
        elif a.appointment_type == AppointmentType.PRESCRIPTION:
            out.count(scopes, outcome_month, "prescription_slots.attended")
    elif a.outcome == AppointmentOutcome.DNA:
        out.count(scopes, outcome_month, "attendance.dna")
    if a.appointment_type == AppointmentType.PRESCRIPTION and a.cancelled_at is None:
        out.count(scopes, month_of(a.booked_at), "prescription_slots.booked")
    for who in (CancelledBy.PATIENT, CancelledBy.PROVIDER):
        if a.cancelled_by == who:
            out.count(scopes, month_of(a.cancelled_at), f"attendance.cancelled_by_{who.value}")
    if a.dna_follow_up is not None:
        out.count(scopes, month_of(a.dna_followed_up_at), f"dna_follow_ups.{a.dna_follow_up}")
    if a.cancelled_at is None:
        starts = month_of(a.starts_at)
        out.count(scopes, starts, "capacity.booked_minutes", a.minutes or 0)
        if a.outcome == AppointmentOutcome.ATTENDED:
            out.count(scopes, starts, "capacity.attended_minutes", a.minutes or 0)
    return out


def session_contribution(s: SessionFact) -> Contribution:
    out = Contribution()
    if s.cancelled_at is not None or s.session_date is None or not (s.starts_at and s.ends_at):
        return out
    month, scopes = month_of_day(s.session_date), _scopes(s)
    out.count(scopes, month, "capacity.sessions")
    length = max(s.ends_at - s.starts_at, timedelta(0))
    bookable = max(length - ADMIN_SLOT, timedelta(0)) // timedelta(microseconds=1)
    out.count(scopes, month, BOOKABLE_MICROSECONDS, bookable)
    return out


def signpost_contribution(s: SignpostFact) -> Contribution:
    out, month, scopes = Contribution(), month_of(s.occurred_at), _scopes(s)
    out.count(scopes, month, f"signposting.{s.outcome}")
    out.count(scopes, month, f"signposting_by_destination.{s.destination}")
    return out


def escalation_contribution(e: EscalationFact) -> Contribution:
    out, month, scopes = Contribution(), month_of(e.occurred_at), _scopes(e)
    if e.reason is not None:
        out.count(scopes, month, f"escalations.{e.reason}")
    # Acknowledgement figures are the trust view's, per PCN only.
    out.count([PCN_SCOPE], month, "acknowledgement.raised")
    if e.acknowledged_at is not None:
        out.count([PCN_SCOPE], month, "acknowledgement.acknowledged")
        if e.occurred_at is not None:
            minutes = minutes_between(e.occurred_at, e.acknowledged_at)
            out.sample([PCN_SCOPE], month, "acknowledgement.median_minutes_to_acknowledge", minutes)
    if e.resolved_at is not None:
        out.count([PCN_SCOPE], month, "acknowledgement.resolved")
    return out


def referral_contribution(r: ReferralFact) -> Contribution:
    out, scopes = Contribution(), _scopes(r)
    made = month_of(r.made_at)
    out.count(scopes, made, "referrals.made")
    if r.destination is not None:
        out.count(scopes, made, f"referrals.by_destination.{r.destination}")
    if r.previous_referral_id is not None:
        out.count(scopes, made, "referrals.rerouted")
    declined = month_of(r.declined_at)
    out.count(scopes, declined, "referrals.bounced_back")
    out.count(scopes, declined, f"referrals.bounced_back_by_destination.{r.destination or 'unknown'}")
    out.count(scopes, month_of(r.withdrawn_at), "referrals.withdrawn")
    return out


def _deadline_case(c: CallFact, respond_by: datetime, first_starts_at: datetime | None) -> DeadlineCase:
    # `deadline_status` changes at most once as time passes: met once seen inside the deadline, else
    # breached once the deadline has passed.
    if first_starts_at is not None and first_starts_at <= respond_by:
        before, after, at, inclusive = DeadlineStatus.PENDING, DeadlineStatus.MET, first_starts_at, True
    else:
        flagged = first_starts_at is not None or c.waitlisted_at is not None
        before = DeadlineStatus.AT_RISK if flagged else DeadlineStatus.PENDING
        after, at, inclusive = DeadlineStatus.BREACHED, respond_by, False
    month = month_of(respond_by)
    assert month is not None
    assert c.triage_code is not None
    return DeadlineCase(
        c.call_id, c.pcn_code, c.practice_ods, month, c.triage_code, before, after, at, inclusive
    )


def call_contribution(c: CallFact, appointments: Iterable[AppointmentFact]) -> Contribution:
    """`appointments`: the call's appointments of the same PCN."""
    out, scopes = Contribution(), _scopes(c)
    first = first_live_appointment(appointments)
    first_starts_at = first.starts_at if first is not None else None
    code = c.triage_code if c.triage_code in TRIAGE_CODES else None
    triaged = month_of(c.first_triaged_at)
    if code is not None:
        out.count(scopes, triaged, f"response_times.{code}.triaged")
        if c.first_triaged_at is not None and c.received_at is not None:
            minutes = minutes_between(c.received_at, c.first_triaged_at)
            out.sample(scopes, triaged, f"response_times.{code}.call_to_triage_median_minutes", minutes)
    if code in APPOINTMENT_CODES and c.respond_by is not None:
        case = _deadline_case(c, c.respond_by, first_starts_at)
        out.deadline = case
        out.count(scopes, case.month, f"response_times.{code}.after.{case.after}")
        if first_starts_at is not None and c.triaged_at is not None:
            wait = minutes_between(c.triaged_at, first_starts_at)
            name = f"response_times.{code}.triage_to_appointment_median_minutes"
            out.sample(scopes, case.month, name, wait)
    if c.disposition == Disposition.OUT_OF_SCOPE and c.out_of_scope_reason is not None:
        out.count(scopes, triaged, f"out_of_scope.{c.out_of_scope_reason}")
    out.count(scopes, month_of(c.waitlisted_at), "waitlisted")
    if c.disposition in APPOINTMENT_DISPOSITIONS and c.respond_by is not None:
        since = c.received_at or c.first_triaged_at
        out.waiting = WaitingEntry(
            c.call_id,
            c.pcn_code,
            c.practice_ods,
            c.respond_by,
            first_starts_at,
            c.waitlisted_at is not None,
            since,
        )
    return out


def contribution(
    fact: Fact, call: CallFact | None = None, appointments: Iterable[AppointmentFact] = ()
) -> Contribution:
    """One fact's contribution; an appointment's needs its call, a call's its appointments (same PCN)."""
    match fact:
        case CallFact():
            return call_contribution(fact, appointments)
        case AppointmentFact():
            return appointment_contribution(fact, call)
        case SessionFact():
            return session_contribution(fact)
        case EscalationFact():
            return escalation_contribution(fact)
        case ReferralFact():
            return referral_contribution(fact)
        case SignpostFact():
            return signpost_contribution(fact)


def source_key(fact: Fact) -> str:
    """`<kind>:<id>`: a fact's key, under which its contribution is stored (ids are unique per kind)."""
    return f"{KIND_OF[type(fact)]}:{getattr(fact, KEY_FIELD[KIND_OF[type(fact)]])}"


def all_contributions(facts: Iterable[Fact]) -> dict[str, Contribution]:
    """Every fact's contribution from scratch (a rebuild), related facts looked up in memory."""
    facts = list(facts)
    calls = {f.call_id: f for f in facts if isinstance(f, CallFact)}
    by_call: dict[uuid.UUID, list[AppointmentFact]] = {}
    for f in facts:
        if isinstance(f, AppointmentFact) and f.call_id is not None:
            by_call.setdefault(f.call_id, []).append(f)
    out: dict[str, Contribution] = {}
    for f in facts:
        if isinstance(f, AppointmentFact):
            call = calls.get(f.call_id) if f.call_id is not None else None
            out[source_key(f)] = contribution(f, call=same_pcn(call, f.pcn_code))
        elif isinstance(f, CallFact):
            appts = [a for a in by_call.get(f.call_id, []) if a.pcn_code == f.pcn_code]
            out[source_key(f)] = contribution(f, appointments=appts)
        else:
            out[source_key(f)] = contribution(f)
    return out


def same_pcn(call: CallFact | None, pcn: str) -> CallFact | None:
    return call if call is not None and call.pcn_code == pcn else None


def totals(contributions: Iterable[Contribution]) -> tuple[dict[Bucket, int], dict[Bucket, list[float]]]:
    """Counters and median samples summed over contributions (a rebuild's starting point)."""
    counts: dict[Bucket, int] = {}
    samples: dict[Bucket, list[float]] = {}
    for c in contributions:
        for bucket, value in c.counts.items():
            counts[bucket] = counts.get(bucket, 0) + value
        for bucket, sample in c.samples.items():
            samples.setdefault(bucket, []).append(sample)
    return {b: v for b, v in counts.items() if v != 0}, samples


def medians_of(samples: Mapping[Bucket, list[float]]) -> dict[Bucket, float]:
    out: dict[Bucket, float] = {}
    for bucket, values in samples.items():
        m = median(values)
        if m is not None:
            out[bucket] = m
    return out
