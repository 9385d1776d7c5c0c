"""A case's UK MHTS deadline as of an instant, and the cases still waiting to be seen.

One rule for every figure (monthly return, trust view, dashboard): from the moment a case's deadline has
passed, a case not seen by it is a breach, whether it was seen late or is still waiting. Before then it is
never a breach: at risk if flagged (waitlisted with no appointment, or booked after its deadline), else
pending. "Seen" is the start of the case's first live (not cancelled) appointment: the MHP's response.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.metrics.domain.facts import AppointmentFact, CallFact
from services.metrics.domain.kinds import DeadlineStatus
from shared.contracts.codes import Disposition

APPOINTMENT_DISPOSITIONS = frozenset({Disposition.URGENT_APPOINTMENT, Disposition.APPOINTMENT})
"""A case triaged to one of these waits for an MHP appointment until it is seen or handed over."""


def deadline_status(
    respond_by: datetime, first_starts_at: datetime | None, as_of: datetime, *, waitlisted: bool = False
) -> DeadlineStatus:
    """`first_starts_at`: the start of the case's first live appointment, if it has one.

    Exactly at the deadline it has not yet passed (an appointment then is inside it); a second later it has.
    """
    seen = first_starts_at is not None and first_starts_at <= as_of
    if seen and first_starts_at is not None and first_starts_at <= respond_by:
        return DeadlineStatus.MET
    if as_of > respond_by:
        return DeadlineStatus.BREACHED
    booked_late = first_starts_at is not None and first_starts_at > respond_by
    if booked_late or (waitlisted and first_starts_at is None):
        return DeadlineStatus.AT_RISK
    return DeadlineStatus.PENDING


def first_live_appointment(appts: Iterable[AppointmentFact]) -> AppointmentFact | None:
    live = [a for a in appts if a.cancelled_at is None and a.starts_at is not None]
    return min(live, key=lambda a: a.starts_at or datetime.max.replace(tzinfo=UTC), default=None)


def appointments_by_call(appointments: Iterable[AppointmentFact]) -> dict[uuid.UUID, list[AppointmentFact]]:
    by_call: dict[uuid.UUID, list[AppointmentFact]] = {}
    for a in appointments:
        if a.call_id is not None:
            by_call.setdefault(a.call_id, []).append(a)
    return by_call


def call_status(
    call: CallFact, by_call: Mapping[uuid.UUID, list[AppointmentFact]], as_of: datetime
) -> DeadlineStatus | None:
    """The call's status against its latest decision's deadline; None for a call without one."""
    if call.respond_by is None:
        return None
    first = first_live_appointment(by_call.get(call.call_id, []))
    starts_at = first.starts_at if first is not None else None
    return deadline_status(call.respond_by, starts_at, as_of, waitlisted=call.waitlisted_at is not None)


@dataclass(frozen=True)
class WaitingCase:
    call: CallFact
    booked: bool
    status: DeadlineStatus
    waiting_since: datetime | None


def waiting_cases(
    calls: Iterable[CallFact], appointments: Iterable[AppointmentFact], as_of: datetime
) -> list[WaitingCase]:
    """Cases whose latest decision is an appointment and whose first live appointment has not started."""
    by_call = appointments_by_call(appointments)
    out: list[WaitingCase] = []
    for call in calls:
        if call.disposition not in APPOINTMENT_DISPOSITIONS or call.respond_by is None:
            continue
        first = first_live_appointment(by_call.get(call.call_id, []))
        if first is not None and first.starts_at is not None and first.starts_at <= as_of:
            continue  # seen (or at least responded to: a DNA goes to DNA follow-up)
        status = call_status(call, by_call, as_of)
        assert status is not None
        since = call.received_at or call.first_triaged_at
        out.append(WaitingCase(call, booked=first is not None, status=status, waiting_since=since))
    return out


def waiting_figures(
    calls: Iterable[CallFact], appointments: Iterable[AppointmentFact], as_of: datetime
) -> dict[str, Any]:
    """How many cases wait to be seen, as of `as_of`, and for how long the oldest has waited."""
    cases = waiting_cases(calls, appointments, as_of)
    return summarise_waiting(
        [(c.booked, c.call.waitlisted_at is not None, c.status, c.waiting_since) for c in cases], as_of
    )


def summarise_waiting(
    cases: list[tuple[bool, bool, DeadlineStatus, datetime | None]], as_of: datetime
) -> dict[str, Any]:
    """The waiting figures of cases given as (booked, waitlisted, status, waiting since)."""
    since = [at for _, _, _, at in cases if at is not None]
    oldest = min(since, default=None)
    return {
        "waiting": len(cases),
        "unbooked": sum(1 for booked, _, _, _ in cases if not booked),
        "waitlisted": sum(1 for booked, waitlisted, _, _ in cases if not booked and waitlisted),
        "at_risk": sum(1 for _, _, status, _ in cases if status is DeadlineStatus.AT_RISK),
        "past_deadline": sum(1 for _, _, status, _ in cases if status is DeadlineStatus.BREACHED),
        "oldest_waiting_since": None if oldest is None else oldest.astimezone(UTC).isoformat(),
        "oldest_wait_minutes": None
        if oldest is None
        else round(max(0.0, (as_of - oldest).total_seconds() / 60), 1),
    }
