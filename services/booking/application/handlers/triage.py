"""A triage decision books the case by its deadline; a re-triage replaces what the earlier one booked."""

from __future__ import annotations

from services.booking.application.commands import BookFromTriage
from services.booking.application.context import BookingContext
from services.booking.application.handlers.allocation import book_or_waitlist, offer_to_waitlist, release
from services.booking.application.unit_of_work import BookingUnitOfWork
from services.booking.domain.appointment import Appointment, BookingRequest
from services.booking.domain.urgency import urgency_of_triage
from services.booking.domain.waitlist import WaitlistEntry
from shared.contracts.codes import CancelledBy
from shared.errors import RuleViolation


async def book_from_triage(
    cmd: BookFromTriage, uow: BookingUnitOfWork, ctx: BookingContext
) -> Appointment | WaitlistEntry | None:
    live = await uow.appointments.live_initial_for_call(cmd.call_id)
    waiting = await uow.waitlist.waiting_for_call(cmd.call_id)
    if cmd.supersedes is None and (live is not None or waiting is not None):
        return None  # the same decision re-sent under a new event id: one call, one booking
    if live is not None:
        await release(uow, live, live.cancel(CancelledBy.PROVIDER), announce=True, cause=cmd.cause)
    if waiting is not None:
        waiting.withdraw()
        await uow.waitlist.save(waiting)
    outcome = None
    if cmd.needs_appointment:
        # The contract guarantees both for an appointment disposition; refuse (not assert: -O drops it).
        if cmd.respond_by is None or cmd.minutes is None:
            raise RuleViolation("an appointment disposition needs respond_by and appointment_minutes")
        request = BookingRequest(
            call_id=cmd.call_id,
            correlation_id=cmd.correlation_id,
            pcn_code=cmd.pcn_code,
            home_practice_ods=cmd.practice_ods,
            respond_by=cmd.respond_by,
            modality=cmd.modality,
            minutes=cmd.minutes,
            urgency=urgency_of_triage(cmd.triage_code, cmd.respond_by, ctx.clock()),
        )
        outcome = await book_or_waitlist(uow, ctx, request, cause=cmd.cause)
    if live is not None:
        await offer_to_waitlist(uow, ctx, cmd.pcn_code, cause=cmd.cause)
    return outcome
