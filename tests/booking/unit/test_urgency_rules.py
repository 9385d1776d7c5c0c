"""Booking by risk: a case's urgency, where a routine case starts looking, and the handlers using them."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from services.booking.application.commands import BookFromTriage
from services.booking.application.context import BookingContext
from services.booking.application.handlers.triage import book_from_triage
from services.booking.domain.appointment import Appointment, BookingRequest
from services.booking.domain.rota import SlotStatus
from services.booking.domain.urgency import (
    URGENT_HORIZON,
    Urgency,
    UrgentCapacityPolicy,
    UrgentPressure,
    is_urgent,
    routine_not_before,
    urgency_of_triage,
    working_days_between,
)
from services.booking.domain.waitlist import WaitlistEntry
from shared.contracts.codes import TriageCode
from tests.support.clock import FakeClock

from ..conftest import HOME, NOW, PCN, TODAY
from .conftest import book_from, call, plan, schedule
from .fakes import FakeBookingUnitOfWork

LOOK_AHEAD = timedelta(hours=72)
FOUR_WEEKS = NOW + timedelta(weeks=4)


def pressure(waiting: int = 0, recent: int = 0, free: int = 10) -> UrgentPressure:
    return UrgentPressure(
        waiting=waiting, recent=recent, recent_working_days=5, ahead_working_days=3, free_slots_ahead=free
    )


def test_c_and_d_are_urgent_e_routine_and_no_code_goes_by_its_deadline() -> None:
    assert urgency_of_triage(TriageCode.C, NOW + timedelta(hours=24), NOW) is Urgency.URGENT
    assert urgency_of_triage(TriageCode.D, NOW + timedelta(hours=72), NOW) is Urgency.URGENT
    assert urgency_of_triage(TriageCode.E, FOUR_WEEKS, NOW) is Urgency.ROUTINE
    assert urgency_of_triage(None, NOW + timedelta(hours=72), NOW) is Urgency.URGENT
    assert urgency_of_triage(None, FOUR_WEEKS, NOW) is Urgency.ROUTINE


def test_a_routine_case_whose_own_deadline_is_near_is_booked_as_urgent() -> None:
    assert not is_urgent(Urgency.ROUTINE, FOUR_WEEKS, NOW)
    assert is_urgent(Urgency.ROUTINE, FOUR_WEEKS, FOUR_WEEKS - URGENT_HORIZON)
    assert not is_urgent(Urgency.ROUTINE, None, NOW)  # a follow-up or direct booking: no deadline
    assert is_urgent(Urgency.URGENT, None, NOW)


def test_with_no_urgent_demand_a_routine_case_books_as_before() -> None:
    assert routine_not_before(NOW, FOUR_WEEKS, pressure(), LOOK_AHEAD) == NOW
    assert routine_not_before(NOW, FOUR_WEEKS, pressure(waiting=5), timedelta(0)) == NOW  # look-ahead off


def test_urgent_demand_pushes_a_routine_case_as_far_into_the_look_ahead_as_it_needs() -> None:
    # 2 waiting + 10 a day over 5 working days (2 a day) for 3 days ahead = 8 of 16 free slots: half of it.
    assert routine_not_before(NOW, FOUR_WEEKS, pressure(2, 10, 16), LOOK_AHEAD) == NOW + LOOK_AHEAD / 2
    assert routine_not_before(NOW, FOUR_WEEKS, pressure(waiting=30, free=16), LOOK_AHEAD) == NOW + LOOK_AHEAD
    assert routine_not_before(NOW, FOUR_WEEKS, pressure(waiting=1, free=0), LOOK_AHEAD) == NOW + LOOK_AHEAD


def test_urgent_demand_never_pushes_a_routine_case_past_its_own_deadline() -> None:
    deadline = NOW + timedelta(hours=10)
    assert routine_not_before(NOW, deadline, pressure(waiting=30), LOOK_AHEAD) == deadline


def test_working_days_count_weekdays_only_and_at_least_one() -> None:
    monday = datetime(2026, 6, 1, 7, tzinfo=UTC)
    assert working_days_between(monday - timedelta(days=7), monday) == 5
    friday = monday + timedelta(days=4, hours=9)
    assert working_days_between(friday, friday + timedelta(hours=72)) == 1
    assert working_days_between(monday, monday) == 1


def test_a_later_start_is_searched_first_then_the_earliest_slot_of_the_window() -> None:
    request = BookingRequest(None, uuid.uuid4(), PCN, HOME, FOUR_WEEKS, None, 30)
    later = NOW + timedelta(hours=36)
    searches = request.searches(NOW, later_from=later)
    assert [(q.practice_ods, q.not_before) for q in searches] == [
        (HOME, later),
        (None, later),
        (HOME, NOW),
        (None, NOW),
    ]
    assert all(q.starts_before == FOUR_WEEKS for q in searches)
    assert len(request.searches(NOW, later_from=NOW)) == 2


PROTECTED = UrgentCapacityPolicy(share=0.4, hold=timedelta(hours=24), demand_look_ahead=LOOK_AHEAD)


def protected(clock: FakeClock, policy: UrgentCapacityPolicy = PROTECTED) -> BookingContext:
    return BookingContext(clock=clock, urgent_capacity=policy)


def e_case() -> BookFromTriage:
    return dataclasses.replace(book_from(call(hours=24 * 28)), triage_code=TriageCode.E)


def c_case() -> BookFromTriage:
    return dataclasses.replace(book_from(call(hours=24)), triage_code=TriageCode.C)


def d_case() -> BookFromTriage:
    return dataclasses.replace(book_from(call(hours=72)), triage_code=TriageCode.D)


async def test_a_routine_case_leaves_the_held_slots_for_an_urgent_one(
    uow: FakeBookingUnitOfWork, clock: FakeClock
) -> None:
    ctx = protected(clock, dataclasses.replace(PROTECTED, demand_look_ahead=timedelta(0)))
    await schedule(uow, ctx, plan(day=TODAY + timedelta(days=2)))
    routine = [await book_from_triage(e_case(), uow, ctx) for _ in range(4)]
    assert [a.starts_at for a in routine if isinstance(a, Appointment)] == sorted(
        s.starts_at for s in uow.slots.rows.values() if s.seq in (2, 3, 4, 5)
    )
    assert isinstance(await book_from_triage(e_case(), uow, ctx), WaitlistEntry)
    urgent = await book_from_triage(d_case(), uow, ctx)
    assert isinstance(urgent, Appointment)
    assert urgent.urgency is Urgency.URGENT
    assert [uow.slots.rows[i].seq for i in urgent.slot_ids] == [0]


async def test_under_urgent_pressure_a_routine_case_books_later_in_its_window(
    uow: FakeBookingUnitOfWork, clock: FakeClock
) -> None:
    # Arrivals counted over the last day: Sunday, so one working day; share 0 to see the push alone.
    ctx = protected(clock, dataclasses.replace(PROTECTED, share=0, demand_rate_days=1))
    await schedule(uow, ctx, *(plan(day=TODAY + timedelta(days=d)) for d in range(7)))
    calm = await book_from_triage(e_case(), uow, ctx)
    assert isinstance(calm, Appointment)
    assert calm.starts_at < NOW + timedelta(hours=24)
    for _ in range(5):  # urgent arrivals take the rest of today's session
        assert isinstance(await book_from_triage(c_case(), uow, ctx), Appointment)
    # 5 a day for 3 days ahead against 12 free slots: the whole look-ahead is needed by urgent cases.
    pushed = await book_from_triage(e_case(), uow, ctx)
    assert isinstance(pushed, Appointment)
    assert pushed.starts_at >= NOW + LOOK_AHEAD


async def test_a_routine_case_falls_back_to_the_earliest_slot_when_nothing_fits_later(
    uow: FakeBookingUnitOfWork, clock: FakeClock
) -> None:
    ctx = protected(clock, dataclasses.replace(PROTECTED, share=0))
    await schedule(uow, ctx, plan())  # one session, today only
    for _ in range(3):
        await book_from_triage(c_case(), uow, ctx)
    routine = await book_from_triage(e_case(), uow, ctx)
    assert isinstance(routine, Appointment)
    assert routine.starts_at.date() == TODAY


async def test_a_routine_case_waits_rather_than_take_a_held_slot(
    uow: FakeBookingUnitOfWork, clock: FakeClock
) -> None:
    ctx = protected(clock, dataclasses.replace(PROTECTED, share=1.0, demand_look_ahead=timedelta(0)))
    await schedule(uow, ctx, plan(day=TODAY + timedelta(days=2)))
    waiting = await book_from_triage(e_case(), uow, ctx)
    assert isinstance(waiting, WaitlistEntry)
    assert waiting.urgency is Urgency.ROUTINE
    assert all(s.status is SlotStatus.FREE for s in uow.slots.rows.values())
