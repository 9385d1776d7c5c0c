"""Direct bookings by practices: over HTTP/FHIR (refusal answered 409) or from a practice system (AMQP)."""

from __future__ import annotations

from services.booking.application.commands import AcceptPracticeBooking, DirectBook
from services.booking.application.context import BookingContext
from services.booking.application.handlers.allocation import claim_first
from services.booking.application.publishing import publish
from services.booking.application.unit_of_work import BookingUnitOfWork
from services.booking.domain.appointment import Appointment, book_on
from services.booking.domain.direct_booking import (
    ALREADY_REFUSED,
    DirectBookingRefused,
    Refusal,
    check_start_slot,
    check_weekly_cap,
    direct_search,
    not_free,
)
from services.booking.domain.events import AppointmentWasBooked, AppointmentWasCancelled
from services.booking.domain.rota import week_bounds
from shared.contracts.codes import BookedBy, CancelledBy
from shared.errors import RuleViolation
from shared.logging import get_logger

log = get_logger(__name__)


class NotADirectBooking(RuleViolation):
    def __init__(self) -> None:
        super().__init__("appointment.booked from a practice system must have booked_by=practice_direct")


async def direct_book(cmd: DirectBook, uow: BookingUnitOfWork, ctx: BookingContext) -> Appointment:
    """Book and announce it; raises DirectBookingRefused with the reason."""
    appointment, new = await _book(cmd, uow, ctx)
    if new:
        publish(uow, [AppointmentWasBooked(appointment)], None)
    return appointment


async def accept_practice_booking(
    cmd: AcceptPracticeBooking, uow: BookingUnitOfWork, ctx: BookingContext
) -> Appointment | None:
    """The practice's system announced the booking itself; a refusal is kept and answered by cancellation."""
    if cmd.booked_by is not BookedBy.PRACTICE_DIRECT:
        raise NotADirectBooking()
    booking = cmd.booking
    try:
        appointment, _ = await _book(booking, uow, ctx)
        return appointment
    except DirectBookingRefused as refused:
        # Refused before anything was written: keep the reason, tell the practice (cancelled by provider).
        await uow.refusals.add(
            Refusal(booking.appointment_id, booking.practice_ods, refused.reason, ctx.clock())
        )
        cancelled = AppointmentWasCancelled(
            appointment_id=booking.appointment_id,
            cancelled_by=CancelledBy.PROVIDER,
            late=False,
            pcn_code=cmd.cause.pcn_code,
            practice_ods=cmd.cause.practice_ods,
            correlation_id=cmd.cause.correlation_id,
        )
        publish(uow, [cancelled], cmd.cause)
        log.info("direct_booking_refused", reason=refused.reason)
        return None


async def _book(cmd: DirectBook, uow: BookingUnitOfWork, ctx: BookingContext) -> tuple[Appointment, bool]:
    """The booking and whether it is new (the same booking re-sent is answered with the first one)."""
    existing = await uow.appointments.get(cmd.appointment_id)
    if existing is not None:
        return existing, False
    if await uow.refusals.is_refused(cmd.appointment_id):
        raise DirectBookingRefused(ALREADY_REFUSED)
    week_start, week_end = week_bounds(cmd.starts_at)
    used = await uow.appointments.count_direct_in_week(cmd.practice_ods, week_start, week_end)
    cap = await uow.caps.get(cmd.practice_ods)
    check_weekly_cap(
        used=used,
        cap=ctx.direct_bookings_per_week if cap is None else cap,
        practice_ods=cmd.practice_ods,
        week_start=week_start,
    )
    start = check_start_slot(await uow.slots.starting_at(cmd.practice_ods, cmd.starts_at))
    now = ctx.clock()
    appointment = await claim_first(
        uow,
        [direct_search(start, modality=cmd.modality, minutes=cmd.minutes)],
        lambda slots: book_on(
            slots,
            appointment_id=cmd.appointment_id,
            correlation_id=cmd.correlation_id,
            call_id=cmd.call_id,
            home_practice_ods=cmd.practice_ods,
            modality=cmd.modality,
            minutes=cmd.minutes,
            appointment_type=cmd.appointment_type,
            booked_by=BookedBy.PRACTICE_DIRECT,
            respond_by=None,
            now=now,
        ),
    )
    if appointment is None:
        raise not_free(minutes=cmd.minutes, modality=cmd.modality)
    return appointment, True
