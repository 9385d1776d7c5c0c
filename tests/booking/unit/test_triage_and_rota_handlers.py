"""Handlers: loading the rota, booking from triage (home, PCN, waitlist), re-triage, session cancellation."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.booking.application.commands import CancelSession, LoadRota, SetDirectBookingCap
from services.booking.application.context import BookingContext
from services.booking.application.handlers.rota import (
    SessionNotFound,
    cancel_session,
    load_rota,
    set_direct_booking_cap,
)
from services.booking.application.handlers.triage import book_from_triage
from services.booking.application.unit_of_work import SlotTaken
from services.booking.domain.appointment import Appointment, AppointmentStatus
from services.booking.domain.rota import SessionStatus, SlotStatus
from services.booking.domain.waitlist import WaitlistEntry, WaitlistStatus
from shared.contracts.codes import (
    CancelledBy,
    Disposition,
    EscalationReason,
    EscalationTarget,
    Modality,
    SessionCancellationReason,
    SessionPeriod,
)
from shared.contracts.v1 import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentWaitlisted,
    CaseEscalated,
    SessionCancelled,
    SessionScheduled,
)

from ..conftest import HOME, NOW, OTHER, PCN, TODAY
from .conftest import book_from, call, plan, schedule
from .fakes import FakeBookingUnitOfWork


async def test_loading_the_rota_twice_schedules_each_session_once(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    first = await load_rota(LoadRota((plan(), plan(period=SessionPeriod.PM))), uow, ctx)
    again = await load_rota(LoadRota((plan(),)), uow, ctx)
    assert (len(first.session_ids), first.already_on_rota) == (2, 0)
    assert (again.session_ids, again.already_on_rota) == ([], 1)
    assert len(uow.slots.rows) == 14
    scheduled = uow.events_of(SessionScheduled)
    assert [e.data.period for e in scheduled] == [SessionPeriod.AM, SessionPeriod.PM]
    assert scheduled[0].producer == f"{PCN}/booking"
    assert scheduled[0].correlation_id == scheduled[0].data.session_id  # a session is its own correlation


async def test_books_the_home_practice_first_within_the_deadline(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan(OTHER), plan(HOME, period=SessionPeriod.PM))
    event = call()
    booked = await book_from_triage(book_from(event), uow, ctx)
    assert isinstance(booked, Appointment)
    assert booked.practice_ods == HOME
    assert booked.starts_at == NOW.replace(hour=12, minute=30)
    [announced] = uow.events_of(AppointmentBooked)
    assert (announced.causation_id, announced.practice_ods) == (event.event_id, HOME)
    assert {uow.slots.rows[s].status for s in booked.slot_ids} == {SlotStatus.BOOKED}


async def test_falls_back_to_another_practice_of_the_pcn(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan(OTHER), plan(HOME, day=TODAY + timedelta(days=7)))
    booked = await book_from_triage(book_from(call(hours=24)), uow, ctx)
    assert isinstance(booked, Appointment)
    assert (booked.practice_ods, booked.home_practice_ods) == (OTHER, HOME)
    [announced] = uow.events_of(AppointmentBooked)
    assert announced.practice_ods == HOME  # routed by the patient's practice


async def test_a_complex_case_takes_two_adjacent_face_to_face_slots(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan(modalities=(Modality.TELEPHONE, Modality.FACE_TO_FACE), room="Room 1"))
    booked = await book_from_triage(book_from(call(minutes=60, modality=Modality.FACE_TO_FACE)), uow, ctx)
    assert isinstance(booked, Appointment)
    assert (booked.minutes, booked.modality, len(booked.slot_ids)) == (60, Modality.FACE_TO_FACE, 2)
    first, second = (uow.slots.rows[s] for s in booked.slot_ids)
    assert (first.session_id, second.seq) == (second.session_id, first.seq + 1)


async def test_no_slot_in_time_waitlists_and_escalates(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan(day=TODAY + timedelta(days=3)))
    event = call(hours=24)
    outcome = await book_from_triage(book_from(event), uow, ctx)
    assert isinstance(outcome, WaitlistEntry)
    assert uow.appointments.rows == {}
    [waitlisted] = uow.events_of(AppointmentWaitlisted)
    [escalated] = uow.events_of(CaseEscalated)
    assert waitlisted.data.call_id == event.data.call_id
    assert (escalated.data.reason, escalated.data.target) == (
        EscalationReason.APPOINTMENT_DEADLINE_AT_RISK,
        EscalationTarget.PRACTICE_CLINICAL_LEAD,
    )
    assert escalated.data.due_at == event.data.respond_by
    assert escalated.causation_id == event.event_id


async def test_the_same_decision_re_sent_books_nothing_new(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan())
    first = call()
    await book_from_triage(book_from(first), uow, ctx)
    resent = call(call_id=first.data.call_id, correlation_id=first.correlation_id)
    assert await book_from_triage(book_from(resent), uow, ctx) is None
    assert len(uow.appointments.rows) == 1


async def test_a_re_triage_replaces_the_booking_and_offers_the_freed_slot(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    [session_id] = await schedule(uow, ctx, plan())
    first = call()
    held = await book_from_triage(book_from(first), uow, ctx)
    assert isinstance(held, Appointment)
    for slot in uow.slots.rows.values():  # nothing else left: the next case waits
        if slot.status is SlotStatus.FREE and slot.session_id == session_id:
            slot.status = SlotStatus.CANCELLED
    waiting = call(hours=30)
    assert isinstance(await book_from_triage(book_from(waiting), uow, ctx), WaitlistEntry)
    uow.events.clear()
    advice = call(
        call_id=first.data.call_id,
        supersedes=first.event_id,
        disposition=Disposition.ADVICE,
        correlation_id=first.correlation_id,
    )
    assert await book_from_triage(book_from(advice), uow, ctx) is None
    assert uow.appointments.rows[held.appointment_id].status is AppointmentStatus.CANCELLED
    [cancelled] = uow.events_of(AppointmentCancelled)
    assert (cancelled.data.cancelled_by, cancelled.causation_id) == (CancelledBy.PROVIDER, advice.event_id)
    [rebooked] = uow.events_of(AppointmentBooked)
    assert (rebooked.data.call_id, rebooked.data.starts_at) == (waiting.data.call_id, held.starts_at)
    assert uow.waitlist.waiting() == []


async def test_a_re_triage_withdraws_a_waiting_entry_and_books_again(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    first = call(hours=24)
    await book_from_triage(book_from(first), uow, ctx)  # no rota at all: waits
    again = call(call_id=first.data.call_id, supersedes=first.event_id, correlation_id=first.correlation_id)
    assert isinstance(await book_from_triage(book_from(again), uow, ctx), WaitlistEntry)
    assert [e.status for e in uow.waitlist.rows.values()] == [
        WaitlistStatus.WITHDRAWN,
        WaitlistStatus.WAITING,
    ]
    [waiting] = uow.waitlist.waiting()
    assert waiting.cause_event_id == again.event_id
    await schedule(uow, ctx, plan())  # a new session serves the waiting case (the re-triage's)
    [booked] = uow.appointments.rows.values()
    assert booked.call_id == first.data.call_id
    assert uow.waitlist.rows[waiting.entry_id].status is WaitlistStatus.BOOKED


async def test_a_slot_taken_between_search_and_claim_fails_the_unit_of_work(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan())
    uow.slots.taken_by_someone_else = set(uow.slots.rows)
    with pytest.raises(SlotTaken):
        await book_from_triage(book_from(call()), uow, ctx)


async def test_a_cancelled_session_rebooks_what_it_can_and_waitlists_the_rest(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    [morning, _] = await schedule(uow, ctx, plan(), plan(day=TODAY + timedelta(days=1)))
    urgent, routine = call(hours=6), call(hours=72)
    for event in (urgent, routine):
        await book_from_triage(book_from(event), uow, ctx)
    uow.events.clear()
    done = await cancel_session(
        CancelSession(morning, SessionCancellationReason.CLINICIAN_SICKNESS, "MHP off sick"), uow, ctx
    )
    outcomes = done.outcomes
    assert sorted(type(o).__name__ for o in outcomes) == ["Appointment", "WaitlistEntry"]
    # The two appointments the session held, each now cancelled (the route audits each of them).
    assert {a.call_id for a in done.cancelled} == {urgent.data.call_id, routine.data.call_id}
    assert {a.status for a in done.cancelled} == {AppointmentStatus.CANCELLED}
    assert uow.sessions.rows[morning].status is SessionStatus.CANCELLED
    assert {s.status for s in uow.slots.rows.values() if s.session_id == morning} == {SlotStatus.CANCELLED}
    [announced] = uow.events_of(SessionCancelled)
    assert (announced.data.reason_code, announced.data.reason) == (
        SessionCancellationReason.CLINICIAN_SICKNESS,
        "MHP off sick",
    )
    followers = sorted(e.event_type for e in uow.events if e.causation_id == announced.event_id)
    assert followers == sorted(
        [
            "appointment.cancelled",
            "appointment.cancelled",
            "appointment.booked",
            "appointment.waitlisted",
            "case.escalated",
        ]
    )
    [moved] = [o for o in outcomes if isinstance(o, Appointment)]
    assert (moved.call_id, moved.starts_at.date()) == (routine.data.call_id, TODAY + timedelta(days=1))
    uow.events.clear()
    again = await cancel_session(CancelSession(morning, SessionCancellationReason.ROTA_ERROR), uow, ctx)
    assert (again.cancelled, again.outcomes) == ([], [])
    assert uow.events == []


async def test_cancelling_an_unknown_session_is_not_found(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    with pytest.raises(SessionNotFound):
        await cancel_session(CancelSession(uuid.uuid4(), SessionCancellationReason.OTHER), uow, ctx)


async def test_a_practice_cap_is_set(uow: FakeBookingUnitOfWork, ctx: BookingContext) -> None:
    assert await set_direct_booking_cap(SetDirectBookingCap(HOME, 5), uow, ctx) == 5
    assert uow.caps.rows == {HOME: 5}
