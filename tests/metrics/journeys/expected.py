"""The monthly return computed from the journeys themselves (never from the events or the service's code)."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime
from typing import Any

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
from tests.metrics.journeys.model import (
    AS_OF,
    LONDON,
    MONTH,
    Journey,
    Session,
)

# --- ground truth, from the journeys ------------------------------------------------------------------


def _in_month(at: datetime | None, month: str = MONTH) -> bool:
    return at is not None and at.astimezone(LONDON).strftime("%Y-%m") == month


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def _med(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def expected_return(journeys: list[Journey], sessions: list[Session], pcn: str) -> dict[str, Any]:
    mine = [j for j in journeys if j.pcn == pcn]
    practices = sorted({j.practice for j in mine} | {s.practice for s in sessions if s.pcn == pcn})
    return {
        "pcn_total": expected_figures(mine, [s for s in sessions if s.pcn == pcn]),
        "practices": {
            p: expected_figures(
                [j for j in mine if j.practice == p], [s for s in sessions if s.practice == p]
            )
            for p in practices
        },
    }


def expected_figures(journeys: list[Journey], sessions: list[Session]) -> dict[str, Any]:
    appts = [(j, a) for j in journeys for a in j.appointments]
    attended = [(j, a) for j, a in appts if a.outcome == "attended" and _in_month(a.outcome_at)]
    dnas = [(j, a) for j, a in appts if a.outcome == "dna" and _in_month(a.outcome_at)]
    initial = [(j, a) for j, a in attended if a.kind is AppointmentType.INITIAL_ASSESSMENT]

    def channel_of(j: Journey) -> str:
        return j.channel.value if j.channel is not None else "direct_booking"

    channels = Counter(channel_of(j) for j, _ in initial)
    initial_assessments = {c.value: channels.get(c.value, 0) for c in Channel}
    initial_assessments["total"] = len(initial)

    live_sessions = [s for s in sessions if s.cancelled_at is None and s.day.strftime("%Y-%m") == MONTH]
    bookable = sum(int((s.ends_at - s.starts_at).total_seconds() // 60) - 30 for s in live_sessions)
    live_appts = [a for _, a in appts if a.cancelled is None and _in_month(a.starts_at)]
    booked = sum(a.minutes for a in live_appts)

    response: dict[str, Any] = {}
    for code in TriageCode:
        calls = [j for j in journeys if j.triages and j.triages[-1][1] is code and _in_month(j.triages[0][0])]
        row: dict[str, Any] = {
            "triaged": len(calls),
            "call_to_triage_median_minutes": _med(
                [(j.triages[0][0] - j.received_at).total_seconds() / 60 for j in calls if j.received_at]
            ),
        }
        if code.value in "CDE":
            # Calls whose (latest) deadline falls in the month, judged as of AS_OF.
            due = [
                j for j in journeys if j.triages and j.triages[-1][1] is code and _in_month(j.triages[-1][3])
            ]
            within = breached = at_risk = pending = 0
            waits = []
            for j in due:
                live = sorted((a for a in j.appointments if a.cancelled is None), key=lambda a: a.starts_at)
                respond_by = j.triages[-1][3]
                assert respond_by is not None
                first = live[0].starts_at if live else None
                if first is not None:
                    waits.append((first - j.triages[-1][0]).total_seconds() / 60)
                if first is not None and first <= respond_by and first <= AS_OF:
                    within += 1
                elif respond_by < AS_OF:
                    breached += 1
                elif (first is not None and first > respond_by) or (first is None and j.waitlisted_at):
                    at_risk += 1
                else:
                    pending += 1
            row |= {
                "within_deadline": within,
                "breached": breached,
                "at_risk": at_risk,
                "pending": pending,
                "deadline_met_rate": _rate(within, within + breached),
                "triage_to_appointment_median_minutes": _med(waits),
            }
        response[code.value] = row

    escalations = Counter(e[2].value for j in journeys for e in j.escalations if _in_month(e[1]))
    referrals_made = [r for j in journeys for r in j.referrals if _in_month(r.made_at)]
    declined = [r for j in journeys for r in j.referrals if _in_month(r.declined_at)]
    signposts = [s for j in journeys for s in j.signposts if _in_month(s[1])]
    follow_ups = Counter(a.follow_up[1].value for _, a in appts if a.follow_up and _in_month(a.follow_up[0]))
    oos = Counter(
        j.triages[-1][4].value
        for j in journeys
        if j.triages
        and j.triages[-1][2] is Disposition.OUT_OF_SCOPE
        and j.triages[-1][4]
        and _in_month(j.triages[0][0])
    )
    return {
        "initial_assessments": initial_assessments,
        "second_assessments": sum(1 for _, a in attended if a.kind is AppointmentType.SECOND_ASSESSMENT),
        "prescription_slots": {
            "booked": sum(
                1
                for _, a in appts
                if a.kind is AppointmentType.PRESCRIPTION and _in_month(a.booked_at) and a.cancelled is None
            ),
            "attended": sum(1 for _, a in attended if a.kind is AppointmentType.PRESCRIPTION),
        },
        "attendance": {
            "due": len(attended) + len(dnas),
            "attended": len(attended),
            "dna": len(dnas),
            "dna_rate": _rate(len(dnas), len(attended) + len(dnas)),
            "cancelled_by_patient": sum(
                1
                for _, a in appts
                if a.cancelled and a.cancelled[1] is CancelledBy.PATIENT and _in_month(a.cancelled[0])
            ),
            "cancelled_by_provider": sum(
                1
                for _, a in appts
                if a.cancelled and a.cancelled[1] is CancelledBy.PROVIDER and _in_month(a.cancelled[0])
            ),
        },
        "dna_follow_ups": {o.value: follow_ups.get(o.value, 0) for o in DnaFollowUpOutcome},
        "signposting": {o.value: sum(1 for s in signposts if s[3] is o) for o in SignpostOutcome},
        "signposting_by_destination": dict(Counter(s[2].value for s in signposts)),
        "capacity": {
            "sessions": len(live_sessions),
            "bookable_minutes": bookable,
            "booked_minutes": booked,
            "attended_minutes": sum(a.minutes for a in live_appts if a.outcome == "attended"),
            "utilisation": _rate(booked, bookable),
        },
        "response_times": response,
        "escalations": {r.value: escalations.get(r.value, 0) for r in EscalationReason},
        "referrals": {
            "made": len(referrals_made),
            "by_destination": dict(Counter(r.destination.value for r in referrals_made)),
            "bounced_back": len(declined),
            "bounced_back_by_destination": dict(Counter(r.destination.value for r in declined)),
            "rerouted": sum(1 for r in referrals_made if r.previous is not None),
            "withdrawn": sum(1 for j in journeys for r in j.referrals if _in_month(r.withdrawn_at)),
        },
        "out_of_scope": {r.value: oos.get(r.value, 0) for r in OutOfScopeReason},
        "waitlisted": sum(1 for j in journeys if _in_month(j.waitlisted_at)),
        "gp_appointments_released": sum(
            1 for j, _ in initial if j.channel in (Channel.TELEPHONE, Channel.E_CONSULTATION, Channel.WALK_IN)
        ),
    }
