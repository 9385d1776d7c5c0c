"""The monthly PCN return: the PCN total and each practice, with the definitions it uses."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from services.metrics.domain.facts import Facts, split_by_practice
from services.metrics.domain.figures import figures

TIMEZONE = "Europe/London"

DEFINITIONS: dict[str, str] = {
    "month": "A Europe/London calendar month; each fact counts in the month of the local date of the event "
    "that records it (its occurred_at), except capacity, which counts sessions by session date and "
    "appointments by the local date they start.",
    "initial_assessments": "Attended initial-assessment appointments, by the channel of the call that led to "
    "them (direct_booking when a practice booked without a call).",
    "second_assessments": "Attended second-assessment appointments.",
    "prescription_slots": "Prescription appointments booked (not since cancelled) and attended.",
    "dna_rate": "NHS Data Dictionary sense: DNAs (did not attend, or arrived late and not seen) over "
    "appointments due (attended + DNA); cancellations are excluded from both.",
    "capacity": "Bookable minutes = session length less its 30-minute admin slot (cancelled sessions "
    "excluded); booked = minutes of appointments starting in the month, not cancelled; attended = those "
    "attended.",
    "response_times": "Per latest UK MHTS code: median minutes from call to first triage, for calls first "
    "triaged in the month; for appointment codes (C-E), calls whose respond_by deadline falls in the month, "
    "as of the report's as_of: within (first live appointment started at or before the deadline), breached "
    "(the deadline has passed and the case was not seen by it: seen late or still waiting), at_risk (not yet "
    "due, not seen, and waitlisted with no appointment or booked after the deadline) and pending (not yet "
    "due, otherwise). deadline_met_rate = within / (within + breached).",
    "gp_appointments_released": "Attended MHP initial assessments for calls that reached the practice as a "
    "patient request for an urgent appointment (telephone, e-consultation or walk-in): appointments that "
    "would otherwise have gone to the duty GP. GP tasks and direct bookings are not counted.",
    "referrals": "Referrals made in the month by destination; bounce-backs are referral.declined in the "
    "month (by the destination that declined); re-routed are referrals made to replace a declined one; "
    "withdrawn are referral.withdrawn in the month (a re-triage replaced the decision that made it).",
}


def monthly_return(pcn: str, month: str, facts: Facts, as_of: datetime) -> dict[str, Any]:
    """The monthly PCN return computed from the facts: the PCN total and each practice."""
    per_practice = {
        ods: figures(practice_facts, month, as_of, pcn_facts=facts)
        for ods, practice_facts in split_by_practice(facts).items()
    }
    return return_of(pcn, month, figures(facts, month, as_of), per_practice, as_of)


def return_of(
    pcn: str,
    month: str,
    pcn_total: dict[str, Any],
    per_practice: Mapping[str, dict[str, Any]],
    as_of: datetime,
) -> dict[str, Any]:
    """The return's document: the figures of the PCN and of each practice, with the definitions used."""
    return {
        "pcn": pcn,
        "month": month,
        "timezone": TIMEZONE,
        "as_of": as_of.astimezone(UTC).isoformat(),
        "definitions": DEFINITIONS,
        "pcn_total": pcn_total,
        "practices": dict(sorted(per_practice.items())),
    }


Row = tuple[str, str, str, Any]


def flatten(report: Mapping[str, Any]) -> list[Row]:
    """(scope, section, item, value) rows for CSV: scope is the PCN code or a practice ODS code."""
    rows: list[Row] = []
    scopes = [(str(report["pcn"]), report["pcn_total"]), *report["practices"].items()]
    for scope, figs in scopes:
        for section, value in figs.items():
            _flatten_into(rows, scope, section, "", value)
    return rows


def _flatten_into(rows: list[Row], scope: str, section: str, prefix: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten_into(rows, scope, section, f"{prefix}.{k}" if prefix else f"{k}", v)
    else:
        rows.append((scope, section, prefix or "value", value))
