"""The figures of the monthly return for one scope (a PCN, or a practice with its PCN's facts)."""

from __future__ import annotations

import statistics
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from services.metrics.domain.calendar import month_of, month_of_day
from services.metrics.domain.deadlines import appointments_by_call, call_status, first_live_appointment
from services.metrics.domain.facts import AppointmentFact, CallFact, Facts, ReferralFact
from services.metrics.domain.kinds import AppointmentOutcome, DeadlineStatus
from shared.contracts.codes import (
    AppointmentType,
    CancelledBy,
    Channel,
    Disposition,
    DnaFollowUpOutcome,
    EscalationReason,
    OutOfScopeReason,
    SignpostOutcome,
    TriageCode,
)

ADMIN_SLOT = timedelta(minutes=30)
"""Every MHP session ends with a 30-minute admin slot that is not bookable."""

GP_RELEASING_CHANNELS = frozenset({Channel.TELEPHONE, Channel.E_CONSULTATION, Channel.WALK_IN})
"""Patient-initiated requests for an urgent appointment: without the MHP these go to the duty GP.

A GP task is excluded (a GP was already involved) and so is a direct booking (no urgent request was made).
"""

APPOINTMENT_CODES = (TriageCode.C, TriageCode.D, TriageCode.E)
"""The UK MHTS codes whose response is an appointment inside a deadline."""

UNKNOWN_CHANNEL = "unknown"


def in_month(month: str, instant: datetime | None) -> bool:
    return instant is not None and month_of(instant) == month


def counts(keys: Iterable[str], values: Iterable[str | None]) -> dict[str, int]:
    out = {str(k): 0 for k in keys}  # an enum's members by their stored values
    for v in values:
        if v is not None:
            out[v] = out.get(v, 0) + 1
    return out


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def minutes_between(earlier: datetime, later: datetime) -> float:
    """Minutes from `earlier` to `later`, never negative: producers' clocks differ, and an event dated
    before the one it follows took no time at all rather than a negative time."""
    return max(0.0, (later - earlier).total_seconds() / 60)


def _attended(appts: Iterable[AppointmentFact], month: str) -> list[AppointmentFact]:
    return [a for a in appts if a.outcome == AppointmentOutcome.ATTENDED and in_month(month, a.outcome_at)]


def figures(facts: Facts, month: str, as_of: datetime, pcn_facts: Facts | None = None) -> dict[str, Any]:
    """Every figure of the monthly return for one scope (a PCN, or one practice with its PCN's facts).

    `pcn_facts` lets a practice's appointment find the call (and first appointment) it belongs to.
    """
    context = pcn_facts or facts
    calls = {c.call_id: c for c in context.calls}
    appts = facts.appointments
    attended = _attended(appts, month)
    dna = [a for a in appts if a.outcome == AppointmentOutcome.DNA and in_month(month, a.outcome_at)]

    def channel(a: AppointmentFact) -> str:
        call = calls.get(a.call_id) if a.call_id else None
        if call is None or call.channel is None:
            return Channel.DIRECT_BOOKING.value if a.call_id is None else UNKNOWN_CHANNEL
        return call.channel

    initial = [a for a in attended if a.appointment_type == AppointmentType.INITIAL_ASSESSMENT]
    by_channel = counts(list(Channel), (channel(a) for a in initial))
    by_channel["total"] = len(initial)
    signposts = [s for s in facts.signposts if in_month(month, s.occurred_at)]
    return {
        "initial_assessments": by_channel,
        "second_assessments": sum(
            1 for a in attended if a.appointment_type == AppointmentType.SECOND_ASSESSMENT
        ),
        "prescription_slots": {
            "booked": sum(
                1
                for a in appts
                if a.appointment_type == AppointmentType.PRESCRIPTION
                and in_month(month, a.booked_at)
                and a.cancelled_at is None
            ),
            "attended": sum(1 for a in attended if a.appointment_type == AppointmentType.PRESCRIPTION),
        },
        "attendance": _attendance(appts, len(attended), len(dna), month),
        "dna_follow_ups": counts(
            list(DnaFollowUpOutcome),
            (a.dna_follow_up for a in appts if in_month(month, a.dna_followed_up_at)),
        ),
        "signposting": counts(list(SignpostOutcome), (s.outcome for s in signposts)),
        "signposting_by_destination": counts([], (s.destination for s in signposts)),
        "capacity": capacity(facts, month),
        "response_times": response_times(facts.calls, context.appointments, month, as_of),
        "escalations": counts(
            list(EscalationReason), (e.reason for e in facts.escalations if in_month(month, e.occurred_at))
        ),
        "referrals": referrals(facts.referrals, month),
        "out_of_scope": counts(
            list(OutOfScopeReason),
            (
                c.out_of_scope_reason
                for c in facts.calls
                if c.disposition == Disposition.OUT_OF_SCOPE and in_month(month, c.first_triaged_at)
            ),
        ),
        "waitlisted": sum(1 for c in facts.calls if in_month(month, c.waitlisted_at)),
        "gp_appointments_released": sum(1 for a in initial if channel(a) in GP_RELEASING_CHANNELS),
    }


def _attendance(appts: list[AppointmentFact], attended: int, dna: int, month: str) -> dict[str, Any]:
    def cancelled_by(who: CancelledBy) -> int:
        return sum(1 for a in appts if a.cancelled_by == who and in_month(month, a.cancelled_at))

    return {
        "due": attended + dna,
        "attended": attended,
        "dna": dna,
        "dna_rate": ratio(dna, attended + dna),
        "cancelled_by_patient": cancelled_by(CancelledBy.PATIENT),
        "cancelled_by_provider": cancelled_by(CancelledBy.PROVIDER),
    }


def capacity(facts: Facts, month: str) -> dict[str, Any]:
    """Bookable minutes of live sessions dated in the month against minutes of appointments starting in it."""
    bookable = 0.0
    sessions = 0
    for s in facts.sessions:
        if s.cancelled_at is not None or s.session_date is None or not (s.starts_at and s.ends_at):
            continue
        if month_of_day(s.session_date) != month:
            continue
        sessions += 1
        bookable += max(0.0, minutes_between(s.starts_at, s.ends_at) - ADMIN_SLOT.total_seconds() / 60)
    live = [a for a in facts.appointments if a.cancelled_at is None and in_month(month, a.starts_at)]
    booked = sum(a.minutes or 0 for a in live)
    attended = sum(a.minutes or 0 for a in live if a.outcome == AppointmentOutcome.ATTENDED)
    return {
        "sessions": sessions,
        "bookable_minutes": int(bookable),
        "booked_minutes": booked,
        "attended_minutes": attended,
        "utilisation": ratio(booked, int(bookable)),
    }


def response_times(
    calls: list[CallFact], appointments: list[AppointmentFact], month: str, as_of: datetime
) -> dict[str, dict[str, Any]]:
    """Per latest triage code: calls first triaged in the month, timed; for C-E, calls due in the month."""
    by_call = appointments_by_call(appointments)
    out: dict[str, dict[str, Any]] = {}
    for code in TriageCode:
        coded = [c for c in calls if c.triage_code == code]
        triaged = [c for c in coded if in_month(month, c.first_triaged_at)]
        row: dict[str, Any] = {
            "triaged": len(triaged),
            "call_to_triage_median_minutes": median(
                [
                    minutes_between(c.received_at, c.first_triaged_at)
                    for c in triaged
                    if c.first_triaged_at and c.received_at
                ]
            ),
        }
        if code in APPOINTMENT_CODES:
            # By the month the deadline falls in: a case still waiting when its deadline passes is a breach
            # of that month, the month a dashboard opened then shows, whenever it was triaged.
            row.update(_deadlines([c for c in coded if in_month(month, c.respond_by)], by_call, as_of))
        out[code.value] = row
    return out


def _deadlines(
    due: list[CallFact], by_call: Mapping[uuid.UUID, list[AppointmentFact]], as_of: datetime
) -> dict[str, Any]:
    """Each call due in the month against its respond_by, as of `as_of` (`domain/deadlines.py`)."""
    statuses = Counter(call_status(c, by_call, as_of) for c in due)
    waits: list[float] = []
    for c in due:
        first = first_live_appointment(by_call.get(c.call_id, []))
        if first is not None and first.starts_at is not None and c.triaged_at is not None:
            waits.append(minutes_between(c.triaged_at, first.starts_at))
    within, breached = statuses[DeadlineStatus.MET], statuses[DeadlineStatus.BREACHED]
    return {
        "within_deadline": within,
        "breached": breached,
        "at_risk": statuses[DeadlineStatus.AT_RISK],
        "pending": statuses[DeadlineStatus.PENDING],
        "deadline_met_rate": ratio(within, within + breached),
        "triage_to_appointment_median_minutes": median(waits),
    }


def referrals(facts: list[ReferralFact], month: str) -> dict[str, Any]:
    made = [r for r in facts if in_month(month, r.made_at)]
    declined = [r for r in facts if in_month(month, r.declined_at)]
    return {
        "made": len(made),
        "by_destination": counts([], (r.destination for r in made)),
        "bounced_back": len(declined),
        "bounced_back_by_destination": counts([], (r.destination or "unknown" for r in declined)),
        "rerouted": sum(1 for r in made if r.previous_referral_id is not None),
        "withdrawn": sum(1 for r in facts if in_month(month, r.withdrawn_at)),
    }


def deadline_totals(times: Mapping[str, Mapping[str, Any]]) -> tuple[int, int]:
    """(within, breached) over the appointment codes."""
    within = sum(int(times[c].get("within_deadline", 0)) for c in APPOINTMENT_CODES)
    breached = sum(int(times[c].get("breached", 0)) for c in APPOINTMENT_CODES)
    return within, breached
