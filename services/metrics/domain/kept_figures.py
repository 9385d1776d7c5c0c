"""The monthly figures and trend points read back from the kept counters (`contributions.py`).

Same shapes and definitions as `figures.figures` and `trust_view.trend_point`, which compute them from the
facts; here they come from a scope-month's counters, its medians and its deadline cases not yet settled as
of the report's instant (a case due later, or not yet seen, still counts as pending or at risk).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from services.metrics.domain.contributions import BOOKABLE_MICROSECONDS, DeadlineCase, WaitingEntry
from services.metrics.domain.deadlines import deadline_status, summarise_waiting
from services.metrics.domain.figures import APPOINTMENT_CODES, ratio
from services.metrics.domain.kinds import DeadlineStatus
from shared.contracts.codes import (
    Channel,
    DnaFollowUpOutcome,
    EscalationReason,
    OutOfScopeReason,
    SignpostOutcome,
    TriageCode,
)

Values = Mapping[str, float]
MINUTE_MICROSECONDS = 60_000_000

TREND_NAMES = (
    "attendance.attended",
    "attendance.dna",
    "capacity.sessions",
    BOOKABLE_MICROSECONDS,
    "capacity.booked_minutes",
    "capacity.attended_minutes",
    "initial_assessments.total",
    *(f"acknowledgement.{k}" for k in ("raised", "acknowledged", "resolved")),
    "acknowledgement.median_minutes_to_acknowledge",
    *(f"response_times.{c}.after.{s}" for c in APPOINTMENT_CODES for s in DeadlineStatus),
)
"""The names a trend point reads: a trust view reads these for six months and every PCN, nothing more."""

RESPONSE_NAMES = tuple(
    name
    for code in TriageCode
    for name in (
        f"response_times.{code}.triaged",
        f"response_times.{code}.call_to_triage_median_minutes",
        *(
            (
                *(f"response_times.{code}.after.{s}" for s in DeadlineStatus),
                f"response_times.{code}.triage_to_appointment_median_minutes",
            )
            if code in APPOINTMENT_CODES
            else ()
        ),
    )
)
"""The names of a month's response times (the trust view's selected month)."""


def _int(values: Values, name: str) -> int:
    return int(values.get(name, 0))


def _counts(values: Values, prefix: str, keys: Iterable[str]) -> dict[str, int]:
    """The `prefix.*` counters: every key of `keys` (zero if none), and any other key counted."""
    out = {str(k): 0 for k in keys}
    for name, value in values.items():
        if name.startswith(prefix) and (value or name[len(prefix) :] in out):
            out[name[len(prefix) :]] = int(value)
    return out


_AFTER_NAMES = {
    str(code): [(str(s), f"response_times.{code}.after.{s}") for s in DeadlineStatus]
    for code in APPOINTMENT_CODES
}


def deadline_statuses(
    values: Values, unsettled: Iterable[DeadlineCase], as_of: datetime
) -> dict[str, dict[str, int]]:
    """Per appointment code, how many calls due in the month are met / breached / at risk / pending."""
    statuses = {code: {s: int(values.get(n, 0)) for s, n in names} for code, names in _AFTER_NAMES.items()}
    for case in unsettled:
        status = case.status(as_of)
        if status != case.after and case.code in statuses:
            statuses[case.code][case.after] -= 1
            statuses[case.code][status] += 1
    return statuses


def _median(values: Values, name: str) -> float | None:
    value = values.get(name)
    return None if value is None else float(value)


def response_times(values: Values, statuses: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for code in TriageCode:
        prefix = f"response_times.{code}"
        row: dict[str, Any] = {
            "triaged": _int(values, f"{prefix}.triaged"),
            "call_to_triage_median_minutes": _median(values, f"{prefix}.call_to_triage_median_minutes"),
        }
        if code in APPOINTMENT_CODES:
            s = statuses[code]
            within, breached = s[DeadlineStatus.MET], s[DeadlineStatus.BREACHED]
            row |= {
                "within_deadline": within,
                "breached": breached,
                "at_risk": s[DeadlineStatus.AT_RISK],
                "pending": s[DeadlineStatus.PENDING],
                "deadline_met_rate": ratio(within, within + breached),
                "triage_to_appointment_median_minutes": _median(
                    values, f"{prefix}.triage_to_appointment_median_minutes"
                ),
            }
        out[code.value] = row
    return out


def capacity(values: Values) -> dict[str, Any]:
    bookable = _int(values, BOOKABLE_MICROSECONDS) // MINUTE_MICROSECONDS
    booked = _int(values, "capacity.booked_minutes")
    return {
        "sessions": _int(values, "capacity.sessions"),
        "bookable_minutes": bookable,
        "booked_minutes": booked,
        "attended_minutes": _int(values, "capacity.attended_minutes"),
        "utilisation": ratio(booked, bookable),
    }


def scope_figures(values: Values, unsettled: Iterable[DeadlineCase], as_of: datetime) -> dict[str, Any]:
    """`figures.figures` for one scope and month, from its counters."""
    attended, dna = _int(values, "attendance.attended"), _int(values, "attendance.dna")
    initial = _counts(values, "initial_assessments.", Channel)
    initial["total"] = initial.pop("total", 0)
    statuses = deadline_statuses(values, unsettled, as_of)
    return {
        "initial_assessments": initial,
        "second_assessments": _int(values, "second_assessments"),
        "prescription_slots": {
            "booked": _int(values, "prescription_slots.booked"),
            "attended": _int(values, "prescription_slots.attended"),
        },
        "attendance": {
            "due": attended + dna,
            "attended": attended,
            "dna": dna,
            "dna_rate": ratio(dna, attended + dna),
            "cancelled_by_patient": _int(values, "attendance.cancelled_by_patient"),
            "cancelled_by_provider": _int(values, "attendance.cancelled_by_provider"),
        },
        "dna_follow_ups": _counts(values, "dna_follow_ups.", DnaFollowUpOutcome),
        "signposting": _counts(values, "signposting.", SignpostOutcome),
        "signposting_by_destination": _counts(values, "signposting_by_destination.", []),
        "capacity": capacity(values),
        "response_times": response_times(values, statuses),
        "escalations": _counts(values, "escalations.", EscalationReason),
        "referrals": {
            "made": _int(values, "referrals.made"),
            "by_destination": _counts(values, "referrals.by_destination.", []),
            "bounced_back": _int(values, "referrals.bounced_back"),
            "bounced_back_by_destination": _counts(values, "referrals.bounced_back_by_destination.", []),
            "rerouted": _int(values, "referrals.rerouted"),
            "withdrawn": _int(values, "referrals.withdrawn"),
        },
        "out_of_scope": _counts(values, "out_of_scope.", OutOfScopeReason),
        "waitlisted": _int(values, "waitlisted"),
        "gp_appointments_released": _int(values, "gp_appointments_released"),
    }


def acknowledgement(values: Values) -> dict[str, Any]:
    raised = _int(values, "acknowledgement.raised")
    acknowledged = _int(values, "acknowledgement.acknowledged")
    return {
        "raised": raised,
        "acknowledged": acknowledged,
        "unacknowledged": raised - acknowledged,
        "resolved": _int(values, "acknowledgement.resolved"),
        "median_minutes_to_acknowledge": _median(values, "acknowledgement.median_minutes_to_acknowledge"),
    }


_MET = {str(c): f"response_times.{c}.after.{DeadlineStatus.MET}" for c in APPOINTMENT_CODES}
_BREACHED = {str(c): f"response_times.{c}.after.{DeadlineStatus.BREACHED}" for c in APPOINTMENT_CODES}


def trend_point(
    month: str, values: Values, unsettled: Iterable[DeadlineCase], as_of: datetime
) -> dict[str, Any]:
    """`trust_view.trend_point` from the counters (without `response_times`, which only the month needs)."""
    # Only met and breached matter here: counted in their final state, less the cases not there yet.
    within = sum(int(values.get(n, 0)) for n in _MET.values())
    breached = sum(int(values.get(n, 0)) for n in _BREACHED.values())
    for case in unsettled:
        status = case.status(as_of)
        if status == case.after or case.code not in _MET:
            continue
        within += (status == DeadlineStatus.MET) - (case.after == DeadlineStatus.MET)
        breached += (status == DeadlineStatus.BREACHED) - (case.after == DeadlineStatus.BREACHED)
    attended, dna = _int(values, "attendance.attended"), _int(values, "attendance.dna")
    cap = capacity(values)
    return {
        "month": month,
        "dna_rate": ratio(dna, attended + dna),
        "deadline_met_rate": ratio(within, within + breached),
        "deadlines_met": within,
        "deadlines_breached": breached,
        "bookable_minutes": cap["bookable_minutes"],
        "booked_minutes": cap["booked_minutes"],
        "attended_minutes": cap["attended_minutes"],
        "utilisation": cap["utilisation"],
        "initial_assessments": _int(values, "initial_assessments.total"),
        # Every raised escalation has its reason, so the month's escalations are the ones raised in it.
        "escalations": _int(values, "acknowledgement.raised"),
        "median_minutes_to_acknowledge": _median(values, "acknowledgement.median_minutes_to_acknowledge"),
    }


def waiting_figures(entries: Iterable[WaitingEntry], as_of: datetime) -> dict[str, Any]:
    """`deadlines.waiting_figures` from the kept waiting entries of one PCN."""
    cases: list[tuple[bool, bool, DeadlineStatus, datetime | None]] = []
    for e in entries:
        if e.first_starts_at is not None and e.first_starts_at <= as_of:
            continue  # seen (or at least responded to)
        status = deadline_status(e.respond_by, e.first_starts_at, as_of, waitlisted=e.waitlisted)
        cases.append((e.first_starts_at is not None, e.waitlisted, status, e.waiting_since))
    return summarise_waiting(cases, as_of)
