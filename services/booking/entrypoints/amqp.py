"""Booking's one subscription table: each consumer translates an event into a command, nothing more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.booking.adapters.unit_of_work import SqlBookingUnitOfWork
from services.booking.application.commands import (
    AcceptPracticeBooking,
    BookFromTriage,
    CancelAppointment,
    DirectBook,
    RecordAttendance,
    RecordDna,
)
from services.booking.application.context import BookingContext
from services.booking.application.handlers.appointments import (
    cancel_appointment,
    record_attendance,
    record_dna,
)
from services.booking.application.handlers.direct import accept_practice_booking
from services.booking.application.handlers.triage import book_from_triage
from services.booking.application.publishing import is_own
from shared.contracts.codes import APPOINTMENT_DISPOSITIONS
from shared.contracts.envelope import Envelope
from shared.contracts.v1 import (
    AppointmentAttended,
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentDna,
    CallTriaged,
)
from shared.messaging.consumer import Subscription, in_unit_of_work


async def on_call_triaged(event: CallTriaged, uow: SqlBookingUnitOfWork, ctx: BookingContext) -> None:
    data = event.data
    command = BookFromTriage(
        call_id=data.call_id,
        correlation_id=event.correlation_id,
        pcn_code=event.pcn_code,
        practice_ods=event.practice_ods,
        needs_appointment=data.disposition in APPOINTMENT_DISPOSITIONS,
        respond_by=data.respond_by,
        modality=data.modality,
        minutes=data.appointment_minutes,
        supersedes=data.supersedes,
        cause=event,
        triage_code=data.triage_code,
        decision_sequence=data.decision_sequence,
    )
    await book_from_triage(command, uow, ctx)


async def on_appointment_booked(
    event: AppointmentBooked, uow: SqlBookingUnitOfWork, ctx: BookingContext
) -> None:
    data = event.data
    booking = DirectBook(
        appointment_id=data.appointment_id,
        pcn_code=event.pcn_code,
        practice_ods=event.practice_ods,
        starts_at=data.starts_at,
        minutes=data.minutes,
        modality=data.modality,
        appointment_type=data.appointment_type,
        call_id=data.call_id,
        correlation_id=event.correlation_id,
    )
    await accept_practice_booking(AcceptPracticeBooking(booking, data.booked_by, event), uow, ctx)


async def on_appointment_attended(
    event: AppointmentAttended, uow: SqlBookingUnitOfWork, ctx: BookingContext
) -> None:
    data = event.data
    await record_attendance(
        RecordAttendance(data.appointment_id, data.attendance, data.next_step, event.occurred_at, event),
        uow,
        ctx,
    )


async def on_appointment_dna(event: AppointmentDna, uow: SqlBookingUnitOfWork, ctx: BookingContext) -> None:
    await record_dna(
        RecordDna(event.data.appointment_id, event.data.attendance, event.occurred_at, event), uow, ctx
    )


async def on_appointment_cancelled(
    event: AppointmentCancelled, uow: SqlBookingUnitOfWork, ctx: BookingContext
) -> None:
    data = event.data
    command = CancelAppointment(data.appointment_id, data.cancelled_by, data.late, notice=True, cause=event)
    await cancel_appointment(command, uow, ctx)


Consumer = Callable[[Any, SqlBookingUnitOfWork, BookingContext], Awaitable[None]]

CONSUMERS: dict[type[Envelope[Any]], Consumer] = {
    CallTriaged: on_call_triaged,
    AppointmentBooked: on_appointment_booked,
    AppointmentAttended: on_appointment_attended,
    AppointmentDna: on_appointment_dna,
    AppointmentCancelled: on_appointment_cancelled,
}


async def on_event(event: Envelope[Any], uow: SqlBookingUnitOfWork, ctx: BookingContext) -> None:
    if is_own(event):
        return  # booking's own events coming back from the exchange
    await CONSUMERS[type(event)](event, uow, ctx)


def subscriptions(ctx: BookingContext) -> list[Subscription]:
    consume = in_unit_of_work(SqlBookingUnitOfWork, ctx, on_event)
    return [
        Subscription("on_call_triaged", (CallTriaged,), consume),
        # One queue for a practice's appointment events keeps them mostly in order; an outcome that
        # overtakes its booking (a redelivery) is retried until the booking is known.
        Subscription(
            "on_practice_appointment_event",
            (AppointmentBooked, AppointmentAttended, AppointmentDna, AppointmentCancelled),
            consume,
        ),
    ]
