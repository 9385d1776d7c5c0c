"""Search-and-claim, written once: every way booking fills a slot goes through `claim_first`.

`searches_for` turns a booking request into its searches by risk: an urgent case may take any free slot;
a routine one not a held slot, and starts as far into its window as the PCN's urgent demand needs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from services.booking.application.context import BookingContext
from services.booking.application.publishing import publish
from services.booking.application.unit_of_work import BookingUnitOfWork, SlotFilter
from services.booking.domain.allocation import SlotQuery
from services.booking.domain.appointment import Appointment, BookingRequest
from services.booking.domain.events import AppointmentWasBooked
from services.booking.domain.rota import Slot
from services.booking.domain.urgency import (
    UrgentCapacityPolicy,
    UrgentPressure,
    routine_not_before,
    working_days_between,
)
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


async def urgent_pressure(
    uow: BookingUnitOfWork, policy: UrgentCapacityPolicy, pcn_code: str, now: datetime
) -> UrgentPressure:
    """The PCN's urgent demand (waiting now, arrived recently) and its free slots in the look-ahead."""
    since = now - timedelta(days=policy.demand_rate_days)
    ahead = now + policy.demand_look_ahead
    recent_booked = await uow.appointments.count_urgent_booked_since(pcn_code, since)
    recent_waiting = await uow.waitlist.count_urgent_waiting(pcn_code, created_since=since)
    return UrgentPressure(
        waiting=await uow.waitlist.count_urgent_waiting(pcn_code),
        recent=recent_booked + recent_waiting,
        recent_working_days=working_days_between(since, now),
        ahead_working_days=working_days_between(now, ahead),
        free_slots_ahead=await uow.slots.count(
            SlotFilter(pcn_code=pcn_code, starts_from=now, starts_to=ahead)
        ),
    )


async def searches_for(
    uow: BookingUnitOfWork,
    ctx: BookingContext,
    request: BookingRequest,
    now: datetime,
    *,
    waiting: bool = False,
) -> list[SlotQuery]:
    """A request's searches by risk. `waiting`: a waitlisted case, offered any slot it may take, soonest."""
    if request.is_urgent(now):
        return request.searches(now, within_deadline=not waiting)
    policy = ctx.urgent_capacity
    later_from = None
    if policy.weighs_demand and not waiting:
        pressure = await urgent_pressure(uow, policy, request.pcn_code, now)
        later_from = routine_not_before(now, request.respond_by, pressure, policy.demand_look_ahead)
    return request.searches(
        now, within_deadline=not waiting, held=policy.held_for_routine(now), later_from=later_from
    )


async def book_or_waitlist(
    uow: BookingUnitOfWork, ctx: BookingContext, request: BookingRequest, *, cause: Envelope[Any]
) -> Appointment | WaitlistEntry:
    """Book by risk before the deadline, home practice first; else waitlist and escalate."""
    now = ctx.clock()
    searches = await searches_for(uow, ctx, request, now)
    appointment = await claim_first(uow, searches, lambda slots: request.appointment_on(slots, now))
    if appointment is not None:
        publish(uow, [AppointmentWasBooked(appointment)], cause)
        log.info(
            "appointment_booked", appointment_id=str(appointment.appointment_id), urgency=request.urgency
        )
        return appointment
    entry = WaitlistEntry.of(request, cause_event_id=cause.event_id, now=now)
    await uow.waitlist.add(entry)
    publish(uow, waitlisting_events(entry, replaces=request.replaces, call_id=request.call_id), cause)
    log.info("appointment_waitlisted", entry_id=str(entry.entry_id))
    return entry


async def offer_to_waitlist(
    uow: BookingUnitOfWork,
    ctx: BookingContext,
    pcn_code: str,
    *,
    cause: Envelope[Any] | None,
    not_for: uuid.UUID | None = None,
) -> int:
    """Freed capacity goes to the PCN's waitlist first, earliest deadline first; returns how many booked.

    `not_for`: the call whose appointment the provider just cancelled, never put back into that time.
    """
    now = ctx.clock()
    booked = 0
    for entry in by_deadline(await uow.waitlist.waiting_in(pcn_code, WAITLIST_OFFERS)):
        if not_for is not None and entry.call_id == not_for:
            continue
        request = entry.request()
        searches = await searches_for(uow, ctx, request, now, waiting=True)
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
