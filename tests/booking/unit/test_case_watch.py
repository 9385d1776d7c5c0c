"""The case watch with fakes: waiting cases re-escalated until booked, provider cancellations rebooked or
waitlisted, patient cancellations announced, new sessions serving the waitlist, missing outcomes escalated."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from services.booking.application.commands import (
    CancelAppointment,
    EscalateMissingOutcomes,
    WatchWaitingCases,
)
from services.booking.application.context import BookingContext
from services.booking.application.handlers.appointments import cancel_appointment
from services.booking.application.handlers.triage import book_from_triage
from services.booking.application.handlers.watch import escalate_missing_outcomes, watch_waiting_cases
from services.booking.application.unit_of_work import WatchedCase
from services.booking.domain.appointment import Appointment, AppointmentStatus
from services.booking.domain.case_watch import CaseWatchPolicy
from services.booking.domain.rota import SlotStatus
from services.booking.domain.waitlist import WaitlistEntry, WaitlistStatus
from shared.contracts.codes import CancelledBy, EscalationReason, EscalationTarget, TriageCode
from shared.contracts.v1 import AppointmentBooked, AppointmentCancelled, CaseEscalated
from tests.support.clock import FakeClock

from ..conftest import NOW, TODAY
from .conftest import book_from, call, plan, schedule
from .fakes import FakeBookingUnitOfWork


async def watch(uow: FakeBookingUnitOfWork, ctx: BookingContext) -> list[EscalationReason]:
    uow.events.clear()
    await watch_waiting_cases(WatchWaitingCases(100), uow, ctx)
    return [e.data.reason for e in uow.events_of(CaseEscalated)]


async def waiting_c_case(uow: FakeBookingUnitOfWork, ctx: BookingContext) -> WaitlistEntry:
    command = replace(book_from(call(hours=24)), triage_code=TriageCode.C)
    entry = await book_from_triage(command, uow, ctx)
    assert isinstance(entry, WaitlistEntry)
    return entry


async def test_a_waiting_c_case_is_re_escalated_every_two_hours_then_once_as_a_breach(
    uow: FakeBookingUnitOfWork, ctx: BookingContext, clock: FakeClock
) -> None:
    entry = await waiting_c_case(uow, ctx)
    assert await watch(uow, ctx) == []  # just waitlisted (and escalated then): the first look is scheduled
    clock.advance(timedelta(hours=2) - timedelta(seconds=1))
    assert await watch(uow, ctx) == []
    clock.advance(timedelta(seconds=1))
    assert await watch(uow, ctx) == [EscalationReason.APPOINTMENT_DEADLINE_AT_RISK]
    [escalated] = uow.events_of(CaseEscalated)
    assert (escalated.data.target, escalated.data.due_at, escalated.data.call_id) == (
        EscalationTarget.PRACTICE_CLINICAL_LEAD,
        entry.respond_by,
        entry.call_id,
    )
    assert await watch(uow, ctx) == []  # the same look twice fires once
    reasons = []
    for _ in range(11):  # 04:00 .. 24:00 after waitlisting: the last look falls on the deadline
        clock.advance(timedelta(hours=2))
        reasons += await watch(uow, ctx)
    assert reasons == [EscalationReason.APPOINTMENT_DEADLINE_AT_RISK] * 10 + [
        EscalationReason.APPOINTMENT_DEADLINE_BREACH
    ]
    assert uow.watch.watches[entry.entry_id].breach_escalated_at == NOW + timedelta(hours=24)
    clock.advance(timedelta(hours=2))  # still unbooked past its deadline: never forgotten
    assert await watch(uow, ctx) == [EscalationReason.APPOINTMENT_DEADLINE_BREACH]


async def test_the_interval_follows_the_triage_code_and_a_service_down_for_hours_fires_once(
    uow: FakeBookingUnitOfWork, clock: FakeClock
) -> None:
    ctx = BookingContext(clock=clock, case_watch=CaseWatchPolicy({TriageCode.C: timedelta(minutes=30)}))
    await waiting_c_case(uow, ctx)
    await watch(uow, ctx)
    clock.advance(timedelta(minutes=30))
    assert await watch(uow, ctx) == [EscalationReason.APPOINTMENT_DEADLINE_AT_RISK]
    clock.advance(timedelta(hours=5))  # missed ten looks while down: one escalation now, not ten
    assert await watch(uow, ctx) == [EscalationReason.APPOINTMENT_DEADLINE_AT_RISK]


async def test_a_booked_case_is_no_longer_escalated(
    uow: FakeBookingUnitOfWork, ctx: BookingContext, clock: FakeClock
) -> None:
    entry = await waiting_c_case(uow, ctx)
    clock.advance(timedelta(hours=2))
    assert await watch(uow, ctx) == [EscalationReason.APPOINTMENT_DEADLINE_AT_RISK]
    await schedule(uow, ctx, plan(day=TODAY + timedelta(days=2)))  # a session added: serves the waitlist
    assert uow.waitlist.rows[entry.entry_id].status is WaitlistStatus.BOOKED
    clock.advance(timedelta(days=3))
    assert await watch(uow, ctx) == []


async def test_a_claim_lost_to_another_replica_sends_nothing(
    uow: FakeBookingUnitOfWork, ctx: BookingContext, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = await waiting_c_case(uow, ctx)
    await watch(uow, ctx)
    clock.advance(timedelta(hours=2))
    [case] = await uow.watch.waiting_due(clock(), 10)
    await watch(uow, ctx)  # the other replica's pass
    uow.events.clear()

    async def read_before_the_other_replica_claimed(now: datetime, limit: int) -> list[WatchedCase]:
        return [case]

    monkeypatch.setattr(uow.watch, "waiting_due", read_before_the_other_replica_claimed)
    await watch_waiting_cases(WatchWaitingCases(10), uow, ctx)
    assert uow.events == []
    assert uow.watch.watches[entry.entry_id].escalations == 1


async def test_sessions_added_serve_the_waitlist_earliest_deadline_first(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    later, sooner = call(hours=60), call(hours=20)
    for event in (later, sooner):
        assert isinstance(await book_from_triage(book_from(event), uow, ctx), WaitlistEntry)
    await schedule(uow, ctx, plan(day=TODAY + timedelta(days=1)))  # the rota gains a session
    booked = sorted(uow.appointments.rows.values(), key=lambda a: a.starts_at)
    assert [a.call_id for a in booked] == [sooner.data.call_id, later.data.call_id]  # its first slots
    assert booked[0].starts_at == NOW.replace(day=TODAY.day + 1, hour=8)
    assert uow.waitlist.waiting() == []


async def test_a_provider_cancellation_is_rebooked_inside_the_deadline_never_into_the_same_slot(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan())
    held = await book_from_triage(book_from(call(hours=24)), uow, ctx)
    assert isinstance(held, Appointment)
    uow.events.clear()
    await cancel_appointment(CancelAppointment(held.appointment_id, CancelledBy.PROVIDER), uow, ctx)
    [cancelled] = uow.events_of(AppointmentCancelled)
    [rebooked] = uow.events_of(AppointmentBooked)
    assert cancelled.data.cancelled_by is CancelledBy.PROVIDER
    assert rebooked.causation_id == cancelled.event_id
    assert rebooked.data.starts_at != held.starts_at
    assert rebooked.data.starts_at < held.respond_by
    assert rebooked.data.call_id == held.call_id
    assert uow.events_of(CaseEscalated) == []
    assert {uow.slots.rows[s].status for s in held.slot_ids} == {SlotStatus.FREE}  # freed for others


async def test_a_provider_cancellation_with_nothing_in_time_is_waitlisted_and_escalated(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan())
    held = await book_from_triage(book_from(call(hours=24)), uow, ctx)
    assert isinstance(held, Appointment)
    for slot in uow.slots.rows.values():
        if slot.status is SlotStatus.FREE:
            slot.status = SlotStatus.CANCELLED
    practice_notice = call()  # the practice's own appointment.cancelled: booking does not re-announce it
    uow.events.clear()
    notice = CancelAppointment(held.appointment_id, CancelledBy.PROVIDER, notice=True, cause=practice_notice)
    await cancel_appointment(notice, uow, ctx)
    assert uow.events_of(AppointmentCancelled) == []
    [waiting] = uow.waitlist.waiting()
    assert (waiting.call_id, waiting.respond_by) == (held.call_id, held.respond_by)
    [escalated] = uow.events_of(CaseEscalated)
    assert (escalated.data.reason, escalated.data.appointment_id, escalated.causation_id) == (
        EscalationReason.APPOINTMENT_CANCELLED,
        held.appointment_id,
        practice_notice.event_id,
    )


async def test_a_patient_cancellation_is_announced_for_follow_up_and_not_rebooked(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan())
    held = await book_from_triage(book_from(call()), uow, ctx)
    assert isinstance(held, Appointment)
    uow.events.clear()
    await cancel_appointment(CancelAppointment(held.appointment_id, CancelledBy.PATIENT), uow, ctx)
    [announced] = uow.events_of(AppointmentCancelled)
    assert (announced.data.appointment_id, announced.data.cancelled_by) == (
        held.appointment_id,
        CancelledBy.PATIENT,
    )
    assert announced.correlation_id == held.correlation_id  # referrals' episode: its follow-up opens from it
    assert uow.events_of(AppointmentBooked) == []
    assert uow.waitlist.rows == {}


async def test_an_appointment_without_outcome_is_escalated_once_after_the_review_window(
    uow: FakeBookingUnitOfWork, ctx: BookingContext, clock: FakeClock
) -> None:
    await schedule(uow, ctx, plan())
    held = await book_from_triage(book_from(call()), uow, ctx)
    assert isinstance(held, Appointment)
    uow.events.clear()
    clock.now = held.ends_at + ctx.attendance_review_after - timedelta(seconds=1)
    assert await escalate_missing_outcomes(EscalateMissingOutcomes(10), uow, ctx) == 0
    clock.advance(timedelta(seconds=1))
    assert await escalate_missing_outcomes(EscalateMissingOutcomes(10), uow, ctx) == 1
    clock.advance(timedelta(days=1))
    assert await escalate_missing_outcomes(EscalateMissingOutcomes(10), uow, ctx) == 0
    [escalated] = uow.events_of(CaseEscalated)
    assert (escalated.data.reason, escalated.data.target, escalated.data.appointment_id) == (
        EscalationReason.OUTCOME_MISSING,
        EscalationTarget.PRACTICE_CLINICAL_LEAD,
        held.appointment_id,
    )
    assert escalated.practice_ods == held.home_practice_ods
    assert (
        uow.appointments.rows[held.appointment_id].status is AppointmentStatus.BOOKED
    )  # never a guessed DNA
