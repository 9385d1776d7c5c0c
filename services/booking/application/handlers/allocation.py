"""Search-and-claim, written once: every way booking fills a slot goes through `claim_first`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from services.booking.application.context import BookingContext
from services.booking.application.publishing import publish
from services.booking.application.unit_of_work import BookingUnitOfWork
from services.booking.domain.allocation import SlotQuery
from services.booking.domain.appointment import Appointment, BookingRequest
from services.booking.domain.events import AppointmentWasBooked
from services.booking.domain.rota import Slot
from services.booking.domain.waitlist import WaitlistEntry, by_deadline, waitlisting_events
from shared.contracts.envelope import Envelope
from shared.logging import get_logger

log = get_logger(__name__)

WAITLIST_OFFERS = 50
"""How many waiting cases one freeing of capacity tries (earliest deadline first)."""


async def claim_first(
    uow: BookingUnitOfWork, searches: Iterable[SlotQuery], appointment_on: Callable[[list[Slot]], Appointment]
) -> Appointment | None:
    """The first search that finds slots books them: claim (compare-and-set), then add the appointment."""
    for query in searches:
        slots = await uow.slots.find(query)
        if slots:
            appointment = appointment_on(slots)
            await uow.slots.claim(appointment.slot_ids)
            await uow.appointments.add(appointment)
            return appointment
    return None


async def book_or_waitlist(
    uow: BookingUnitOfWork, ctx: BookingContext, request: BookingRequest, *, cause: Envelope[Any]
) -> Appointment | WaitlistEntry:
    """Book the earliest fitting slot before the deadline, home practice first; else waitlist and escalate."""
    now = ctx.clock()
    appointment = await claim_first(
        uow, request.searches(now), lambda slots: request.appointment_on(slots, now)
    )
    if appointment is not None:
        publish(uow, [AppointmentWasBooked(appointment)], cause)
        log.info("appointment_booked", appointment_id=str(appointment.appointment_id))
        return appointment
    entry = WaitlistEntry.of(request, cause_event_id=cause.event_id, now=now)
    await uow.waitlist.add(entry)
    publish(uow, waitlisting_events(entry, replaces=request.replaces, call_id=request.call_id), cause)
    log.info("appointment_waitlisted", entry_id=str(entry.entry_id))
    return entry


async def offer_to_waitlist(
    uow: BookingUnitOfWork, ctx: BookingContext, pcn_code: str, *, cause: Envelope[Any] | None
) -> int:
    """Freed capacity goes to the PCN's waitlist first, earliest deadline first; returns how many booked."""
    now = ctx.clock()
    booked = 0
    for entry in by_deadline(await uow.waitlist.waiting_in(pcn_code, WAITLIST_OFFERS)):
        request = entry.request()
        searches = request.searches(now, within_deadline=False)
        appointment = await claim_first(uow, searches, partial(request.appointment_on, now=now))
        if appointment is None:
            continue
        entry.booked_as(appointment.appointment_id)
        await uow.waitlist.save(entry)
        publish(uow, [AppointmentWasBooked(appointment)], cause)
        booked += 1
    return booked


async def release(
    uow: BookingUnitOfWork,
    appointment: Appointment,
    events: list[Any],
    *,
    announce: bool,
    cause: Envelope[Any] | None,
) -> None:
    """Persist a cancellation the aggregate made and free its slots (unless their session is cancelled)."""
    await uow.appointments.save(appointment)
    await uow.slots.free(await uow.appointments.release_claims(appointment.appointment_id))
    if announce:
        publish(uow, events, cause)
