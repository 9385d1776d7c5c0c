"""Booking by risk: a case's urgency, the capacity held for urgent cases, and where a routine case looks.

Urgent (UK MHTS C/D: 24 and 72 hours) cases may take any free slot; routine ones (E, a practice's direct
booking, a follow-up) may not take a held slot before it is released, and under urgent pressure start
their search later in their own window, never past their deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from services.booking.domain.allocation import HeldSlots
from services.booking.domain.rota import PERIOD_TIMES, SLOT
from shared.contracts.codes import RESPONSE_WINDOW, TriageCode
from shared.working_time import WorkingCalendar


class Urgency(StrEnum):
    URGENT = "urgent"
    ROUTINE = "routine"


URGENT_CODES = frozenset({TriageCode.A, TriageCode.B, TriageCode.C, TriageCode.D})
URGENT_HORIZON: timedelta = RESPONSE_WINDOW[TriageCode.D] or timedelta(hours=72)
"""A deadline this close (72 hours, code D's) makes any case urgent, whatever it was booked as."""

CLINICAL_SLOTS_PER_SESSION = min(
    (datetime.combine(date.min, end) - datetime.combine(date.min, start)) // SLOT - 1  # the admin slot
    for start, end in PERIOD_TIMES.values()
)


def urgency_of_triage(code: TriageCode | None, respond_by: datetime, now: datetime) -> Urgency:
    """C/D (and A/B, should one ever be booked) are urgent, E routine; no code (an older producer) or an
    unexpected one: urgent if the deadline is within the urgent horizon."""
    if code in URGENT_CODES:
        return Urgency.URGENT
    if code is TriageCode.E:
        return Urgency.ROUTINE
    return Urgency.URGENT if respond_by - now <= URGENT_HORIZON else Urgency.ROUTINE


def is_urgent(urgency: Urgency, respond_by: datetime | None, now: datetime) -> bool:
    """Urgent by its code, or a routine case whose own deadline is now within the urgent horizon (so the
    protection never keeps a routine case from the slots that would still get it seen in time)."""
    return urgency is Urgency.URGENT or (respond_by is not None and respond_by - now <= URGENT_HORIZON)


@dataclass(frozen=True)
class UrgentCapacityPolicy:
    """How much of each session is held for urgent cases, until when, and how demand is weighed.

    share 0 and no look-ahead: earliest fit for everyone (booking before issue 13).
    """

    share: float = 0.0
    hold: timedelta = timedelta(hours=24)
    demand_look_ahead: timedelta = timedelta(0)
    demand_rate_days: int = 7

    @property
    def held_per_session(self) -> int:
        """The share of a session's clinical slots, rounded to the nearest slot."""
        return max(0, min(CLINICAL_SLOTS_PER_SESSION, int(self.share * CLINICAL_SLOTS_PER_SESSION + 0.5)))

    def held_for_routine(self, now: datetime) -> HeldSlots | None:
        """What a routine case may not take now: held slots of sessions starting later than `hold` ahead."""
        held = self.held_per_session
        return HeldSlots(held, now + self.hold) if held else None

    @property
    def weighs_demand(self) -> bool:
        return self.demand_look_ahead > timedelta(0)


@dataclass(frozen=True)
class UrgentPressure:
    """The PCN's urgent demand against its free capacity in the look-ahead (counted by the handler)."""

    waiting: int  # urgent cases on the PCN's waitlist now
    recent: int  # urgent cases that arrived in the last `recent_working_days`
    recent_working_days: int
    ahead_working_days: int
    free_slots_ahead: int  # free clinical slots in the PCN inside the look-ahead

    @property
    def expected_demand(self) -> float:
        rate = self.recent / max(1, self.recent_working_days)
        return self.waiting + rate * max(1, self.ahead_working_days)


def routine_not_before(
    now: datetime, respond_by: datetime, pressure: UrgentPressure, look_ahead: timedelta
) -> datetime:
    """Where a routine case starts looking: as far into the look-ahead as urgent demand needs of it.

    Urgent cases take the earliest slots, so demand D against F free slots needs about the first D/F of the
    look-ahead; all of it when demand meets capacity. No demand: now (earliest fit). Never past the
    case's own deadline (and the caller falls back to the earliest slot in the window if nothing fits).
    """
    demand = pressure.expected_demand
    if look_ahead <= timedelta(0) or demand <= 0:
        return now
    needed = 1.0 if pressure.free_slots_ahead <= 0 else min(1.0, demand / pressure.free_slots_ahead)
    return min(now + look_ahead * needed, respond_by)


def working_days_between(start: datetime, end: datetime, calendar: WorkingCalendar | None = None) -> int:
    """Working days from `start`'s local date up to (not including) `end`'s; at least the one day."""
    calendar = calendar or WorkingCalendar()
    day, last = start.astimezone(calendar.timezone).date(), end.astimezone(calendar.timezone).date()
    count = 0
    while day < last:
        count += calendar.is_working_day(day)
        day += timedelta(days=1)
    return max(1, count)
