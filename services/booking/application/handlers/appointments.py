"""After booking: cancellation, attendance, did-not-attend, and the follow-up an attendance books.

A cancellation never drops the case: one by the provider is rebooked inside the case's deadline, else
waitlisted and escalated; one by the patient is announced (`appointment.cancelled`, by the practice's own
notice or by booking for a request) and referrals opens its follow-up from it.
"""

from __future__ import annotations

import uuid
from typing import Any

from services.booking.application.commands import CancelAppointment, RecordAttendance, RecordDna
from services.booking.application.context import BookingContext
from services.booking.application.handlers.allocation import (
    book_or_waitlist,
    claim_first,
    offer_to_waitlist,
    release,
)
from services.booking.application.publishing import publish
from services.booking.application.unit_of_work import BookingUnitOfWork
from services.booking.domain.appointment import Appointment, AppointmentStatus, book_on
from services.booking.domain.events import AppointmentWasBooked, AppointmentWasCancelled
from services.booking.domain.follow_up import (
    LOOK_AHEAD_SESSIONS,
    follow_up_overdue,
    next_appointment_type,
    next_session_searches,
)
from services.booking.domain.rota import SLOT_MINUTES
from shared.contracts.codes import AppointmentType, BookedBy, CancelledBy
from shared.contracts.envelope import Envelope
from shared.errors import NotYet, RuleViolation


class AppointmentNotFound(LookupError):
    pass


class AppointmentNotKnownYet(NotYet):
    """A practice's outcome for an appointment booking has not seen (yet).

    Retried, not dead-lettered at once: the practice's own `appointment.booked` may still be on its way or
    waiting for a redelivery. The consumer's delivery limit bounds the retries and then dead-letters it
    with the reason.
    """


class NotThisPracticesAppointment(RuleViolation):
    """A practice's notice about an appointment of another practice or PCN: never applied (dead-lettered)."""


async def _get(
    uow: BookingUnitOfWork, appointment_id: uuid.UUID, *, notice: bool, reported: Envelope[Any] | None = None
) -> Appointment:
    appointment = await uow.appointments.get(appointment_id)
    if appointment is None:
        if notice:
            raise AppointmentNotKnownYet("appointment_id is not known to booking")
        raise AppointmentNotFound(f"no appointment {appointment_id}")
    # The broker proved who sent the notice (its PCN and practice); the appointment must be theirs too.
    if notice and reported is not None and not appointment.concerns(reported.pcn_code, reported.practice_ods):
        raise NotThisPracticesAppointment("the appointment is not of the reporting practice or its PCN")
    return appointment


async def cancel_appointment(
    cmd: CancelAppointment, uow: BookingUnitOfWork, ctx: BookingContext
) -> Appointment:
    """Cancel (raises AppointmentNotBooked for a request about an appointment no longer booked)."""
    appointment = await _get(uow, cmd.appointment_id, notice=cmd.notice, reported=cmd.cause)
    if cmd.notice and not appointment.is_booked:
        return appointment  # already cancelled (or attended): nothing to free
    events = appointment.cancel(cmd.cancelled_by, late=cmd.late)
    by_provider = cmd.cancelled_by is CancelledBy.PROVIDER
    if by_provider:
        await _rebook_for_provider(cmd, uow, ctx, appointment, events)
    else:  # the patient's choice: not rebooked behind their back; the announcement opens the follow-up
        await release(uow, appointment, events, announce=not cmd.notice, cause=cmd.cause)
    # The waitlist key of its rebooking (BookingRequest.waitlist_call_id): the call, else the appointment.
    rebooked_call = (appointment.call_id or appointment.appointment_id) if by_provider else None
    await offer_to_waitlist(uow, ctx, appointment.pcn_code, cause=cmd.cause, not_for=rebooked_call)
    return appointment


async def _rebook_for_provider(
    cmd: CancelAppointment,
    uow: BookingUnitOfWork,
    ctx: BookingContext,
    appointment: Appointment,
    events: list[AppointmentWasCancelled],
) -> None:
    """Rebook inside the case's deadline, else waitlist and escalate (appointment_cancelled).

    The cancelled appointment keeps its slots claimed while booking looks, so the case is never put back
    into the time the provider just cancelled; they are freed (and offered to the waitlist) after.
    """
    await uow.appointments.save(appointment)  # no longer the call's live booking: the new one may be
    if cmd.notice:  # the practice announced it: its notice is what the rebooking answers
        if cmd.cause is None:
            raise RuleViolation("cause: a practice's notice names the event it came from")
        cause = cmd.cause
    else:
        [cause] = publish(uow, events, cmd.cause)
    await book_or_waitlist(uow, ctx, appointment.rebooking(ctx.rebook_window), cause=cause)
    await release(uow, appointment, events, announce=False, cause=cmd.cause)


async def record_dna(cmd: RecordDna, uow: BookingUnitOfWork, ctx: BookingContext) -> Appointment:
    appointment = await _get(uow, cmd.appointment_id, notice=True, reported=cmd.cause)
    if appointment.dna(cmd.attendance, recorded_at=cmd.recorded_at):
        await uow.appointments.save(appointment)
    return appointment


async def record_attendance(
    cmd: RecordAttendance, uow: BookingUnitOfWork, ctx: BookingContext
) -> Appointment | None:
    """Record attended; a follow-up or prescription next step books the practice's next session.

    Returns the follow-up booked, if any.
    """
    appointment = await _get(uow, cmd.appointment_id, notice=True, reported=cmd.cause)
    was_cancelled = appointment.status is AppointmentStatus.CANCELLED
    if not appointment.attend(cmd.attendance, cmd.next_step, recorded_at=cmd.recorded_at):
        return None
    await uow.appointments.save(appointment)  # the slots are untouched: they may be another patient's now
    if was_cancelled:
        publish(uow, [appointment.seen_after_cancellation()], cmd.cause)
    kind = next_appointment_type(appointment.appointment_type, cmd.next_step)
    if kind is None:
        return None
    return await book_next_session(uow, ctx, appointment, kind, cause=cmd.cause)


async def book_next_session(
    uow: BookingUnitOfWork,
    ctx: BookingContext,
    previous: Appointment,
    kind: AppointmentType,
    *,
    cause: Envelope[Any],
) -> Appointment | None:
    """Book into the next session allocated to the same practice; with no room ahead, task the clinician."""
    sessions = await uow.sessions.next_scheduled(previous.practice_ods, previous.ends_at, LOOK_AHEAD_SESSIONS)
    now = ctx.clock()
    appointment = await claim_first(
        uow,
        next_session_searches(previous, sessions, now),
        lambda slots: book_on(
            slots,
            appointment_id=uuid.uuid4(),
            correlation_id=previous.correlation_id,
            call_id=previous.call_id,
            home_practice_ods=previous.home_practice_ods,
            modality=None,
            minutes=SLOT_MINUTES,
            appointment_type=kind,
            booked_by=BookedBy.MHP_SERVICE,
            respond_by=None,
            now=now,
            fallback_modality=previous.modality,
        ),
    )
    if appointment is not None:
        publish(uow, [AppointmentWasBooked(appointment)], cause)
        return appointment
    overdue = follow_up_overdue(previous, kind, pcn_code=cause.pcn_code, correlation_id=cause.correlation_id)
    publish(uow, [overdue], cause)
    return None
