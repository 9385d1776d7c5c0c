"""The rota: load sessions (the waitlist served first), cancel one (its appointments rebooked or
waitlisted), set a practice's cap."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.booking.application.commands import CancelSession, LoadRota, SetDirectBookingCap
from services.booking.application.context import BookingContext
from services.booking.application.handlers.allocation import (
    WAITLIST_OFFERS,
    book_or_waitlist,
    offer_to_waitlist,
    release,
)
from services.booking.application.publishing import publish
from services.booking.application.unit_of_work import BookingUnitOfWork
from services.booking.domain.appointment import Appointment
from services.booking.domain.rota import RotaSession, check_rota_window
from services.booking.domain.waitlist import WaitlistEntry
from shared.contracts.codes import CancelledBy


class SessionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class RotaLoaded:
    session_ids: list[uuid.UUID]
    already_on_rota: int


async def load_rota(cmd: LoadRota, uow: BookingUnitOfWork, ctx: BookingContext) -> RotaLoaded:
    """Create sessions and their slots; a session already on the rota is left as it is (reloads are safe).

    New capacity serves the PCN's waiting cases first, earliest deadline first, before any new case.
    """
    check_rota_window(cmd.sessions, ctx.clock())  # all or nothing: one bad row refuses the whole rota
    created: list[uuid.UUID] = []
    existing = 0
    gained: set[str] = set()
    for plan in cmd.sessions:
        if await uow.sessions.exists(plan.practice_ods, plan.session_date, plan.period):
            existing += 1
            continue
        session, events = RotaSession.schedule(plan, uuid.uuid4())
        await uow.sessions.add(session)
        publish(uow, events, None)
        created.append(session.session_id)
        gained.add(session.pcn_code)
    for pcn_code in sorted(gained):
        # A whole page booked: more may be waiting behind it, and the new sessions may hold them too.
        while await offer_to_waitlist(uow, ctx, pcn_code, cause=None) == WAITLIST_OFFERS:
            pass
    return RotaLoaded(session_ids=created, already_on_rota=existing)


@dataclass(frozen=True)
class SessionCancellation:
    cancelled: list[Appointment]
    """The appointments the session held, now cancelled by provider (each a patient's: audited)."""
    outcomes: list[Appointment | WaitlistEntry]
    """For each of them in turn: the appointment it was rebooked into, or its waitlist entry."""


async def cancel_session(
    cmd: CancelSession, uow: BookingUnitOfWork, ctx: BookingContext
) -> SessionCancellation:
    """Cancel a session: each appointment is rebooked before its deadline, or waitlisted and escalated."""
    session = await uow.sessions.get(cmd.session_id)
    if session is None:
        raise SessionNotFound(f"no session {cmd.session_id} on the rota")
    events = session.cancel(cmd.reason_code, cmd.reason)
    if not events:
        return SessionCancellation([], [])
    await uow.sessions.save(session)
    await uow.slots.cancel_in_session(session.session_id)
    [cancelled] = publish(uow, events, None)
    result = SessionCancellation([], [])
    for appointment in await uow.appointments.booked_in_session(session.session_id):
        freed = appointment.cancel(CancelledBy.PROVIDER)
        await release(uow, appointment, freed, announce=True, cause=cancelled)
        result.cancelled.append(appointment)
        request = appointment.rebooking(ctx.rebook_window)
        result.outcomes.append(await book_or_waitlist(uow, ctx, request, cause=cancelled))
    return result


async def set_direct_booking_cap(
    cmd: SetDirectBookingCap, uow: BookingUnitOfWork, ctx: BookingContext
) -> int:
    await uow.caps.set(cmd.practice_ods, cmd.weekly_direct_bookings)
    return cmd.weekly_direct_bookings
