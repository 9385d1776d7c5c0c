"""Read-side queries over the same port: what booking's HTTP and FHIR readers see."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from services.booking.application.context import BookingContext
from services.booking.application.unit_of_work import BookingUnitOfWork, SlotFilter
from services.booking.domain.appointment import Appointment
from services.booking.domain.direct_booking import Refusal
from services.booking.domain.rota import RotaSession, Slot
from services.booking.domain.waitlist import WaitlistEntry
from shared.contracts.codes import AppointmentType


async def sessions(
    uow: BookingUnitOfWork,
    pcn_code: str,
    practice_ods: str | None,
    from_date: date | None,
    to_date: date | None,
) -> list[RotaSession]:
    return await uow.sessions.search(pcn_code, practice_ods, from_date, to_date)


async def slots(uow: BookingUnitOfWork, where: SlotFilter) -> list[Slot]:
    """Clinical slots only: admin slots are never bookable."""
    return await uow.slots.search(where)


async def slot(uow: BookingUnitOfWork, slot_id: uuid.UUID) -> Slot | None:
    return await uow.slots.get(slot_id)


async def appointment(uow: BookingUnitOfWork, appointment_id: uuid.UUID) -> Appointment | None:
    return await uow.appointments.get(appointment_id)


async def waitlist(uow: BookingUnitOfWork, pcn_code: str) -> list[WaitlistEntry]:
    """Cases waiting for a slot, earliest deadline first."""
    return await uow.waitlist.waiting_in(pcn_code)


async def attendance_review(
    uow: BookingUnitOfWork, ctx: BookingContext, pcn_code: str | None = None
) -> list[Appointment]:
    """Appointments still 'booked' well after their end: a person must record the outcome (no guessed DNA)."""
    return await uow.appointments.booked_ended_by(ctx.clock() - ctx.attendance_review_after, pcn_code)


async def refusals(uow: BookingUnitOfWork, practice_ods: str) -> list[Refusal]:
    return await uow.refusals.for_practice(practice_ods)


async def prescription_slots(
    uow: BookingUnitOfWork, pcn_code: str, starts_from: datetime | None, starts_to: datetime | None
) -> int:
    """Prescription slots booked (not cancelled) for a PCN, for the monthly return."""
    return await uow.appointments.count_not_cancelled(
        pcn_code, AppointmentType.PRESCRIPTION, starts_from, starts_to
    )
