"""What every booking handler may read besides its command and unit of work: the clock and the policies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.booking.domain.case_watch import CaseWatchPolicy
from services.booking.domain.urgency import UrgentCapacityPolicy
from shared.db import utcnow

SERVICE = "booking"


@dataclass(frozen=True)
class BookingContext:
    clock: Callable[[], datetime] = field(default=utcnow)
    direct_bookings_per_week: int = 10
    attendance_review_after: timedelta = timedelta(hours=2)
    rebook_window: timedelta = timedelta(days=7)
    # Booking by risk; the default (nothing held, no look-ahead) is earliest fit for every case.
    urgent_capacity: UrgentCapacityPolicy = field(default_factory=UrgentCapacityPolicy)
    case_watch: CaseWatchPolicy = field(default_factory=CaseWatchPolicy)


def producer_for(pcn_code: str) -> str:
    """Booking is owned by the PCN: its events are produced as `<PCN code>/booking`."""
    return f"{pcn_code}/{SERVICE}"
