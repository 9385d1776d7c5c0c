"""Read-side queries over the same port: what booking's HTTP and FHIR readers see, a page at a time."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from services.booking.application.context import BookingContext
from services.booking.application.unit_of_work import BookingUnitOfWork, SlotFilter
from services.booking.domain.appointment import Appointment
from services.booking.domain.direct_booking import Refusal
from services.booking.domain.rota import RotaSession, Slot
from services.booking.domain.waitlist import WaitlistEntry
from shared.contracts.codes import AppointmentType
from shared.errors import RuleViolation

MAX_SLOT_SEARCH = timedelta(days=62)
"""The widest window a slot search may ask for (two months of rota)."""


class SlotWindowTooWide(RuleViolation):
    pass


def slot_window(
    starts_from: datetime | None, starts_to: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """A bounded slot search window: from now when no start is given, at most 62 days long."""
    low = starts_from or (starts_to - MAX_SLOT_SEARCH if starts_to else now)
    high = starts_to or low + MAX_SLOT_SEARCH
    if high < low:
        raise SlotWindowTooWide("to: must not be before from")
    if high - low > MAX_SLOT_SEARCH:
        raise SlotWindowTooWide(f"from/to: a slot search spans at most {MAX_SLOT_SEARCH.days} days")
    return low, high


async def sessions(
    uow: BookingUnitOfWork,
    pcn_code: str,
    practice_ods: str | None,
    from_date: date | None,
    to_date: date | None,
    *,
    offset: int = 0,
    limit: int = 1000,
) -> list[RotaSession]:
    return await uow.sessions.search(pcn_code, practice_ods, from_date, to_date, offset=offset, limit=limit)


async def slots(uow: BookingUnitOfWork, where: SlotFilter) -> list[Slot]:
    """Clinical slots only: admin slots are never bookable."""
    return await uow.slots.search(where)


async def slot_count(uow: BookingUnitOfWork, where: SlotFilter) -> int:
    return await uow.slots.count(where)


async def slot(uow: BookingUnitOfWork, slot_id: uuid.UUID) -> Slot | None:
    return await uow.slots.get(slot_id)


async def appointment(uow: BookingUnitOfWork, appointment_id: uuid.UUID) -> Appointment | None:
    return await uow.appointments.get(appointment_id)


async def waitlist(
    uow: BookingUnitOfWork,
    pcn_code: str,
    practice_ods: str | None = None,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> list[WaitlistEntry]:
    """Cases waiting for a slot, earliest deadline first (one practice's patients, when given)."""
    return await uow.waitlist.waiting_in(pcn_code, limit, practice_ods=practice_ods, offset=offset)


async def attendance_review(
    uow: BookingUnitOfWork,
    ctx: BookingContext,
    pcn_code: str | None = None,
    practice_ods: str | None = None,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> list[Appointment]:
    """Appointments still 'booked' well after their end: a person must record the outcome (no guessed DNA)."""
    return await uow.appointments.booked_ended_by(
        ctx.clock() - ctx.attendance_review_after,
        pcn_code,
        home_practice_ods=practice_ods,
        offset=offset,
        limit=limit,
    )


async def refusals(
    uow: BookingUnitOfWork, practice_ods: str, *, offset: int = 0, limit: int | None = None
) -> list[Refusal]:
    return await uow.refusals.for_practice(practice_ods, offset=offset, limit=limit)


async def prescription_slots(
    uow: BookingUnitOfWork,
    pcn_code: str,
    starts_from: datetime | None,
    starts_to: datetime | None,
    practice_ods: str | None = None,
) -> int:
    """Prescription slots booked (not cancelled) for a PCN (or one practice's patients), for the return."""
    return await uow.appointments.count_not_cancelled(
        pcn_code, AppointmentType.PRESCRIPTION, starts_from, starts_to, home_practice_ods=practice_ods
    )
