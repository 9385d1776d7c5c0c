"""Handlers: cancel (request or practice notice), attendance and follow-ups, DNA, direct bookings, queries."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from services.booking.application import queries
from services.booking.application.commands import (
    AcceptPracticeBooking,
    CancelAppointment,
    DirectBook,
    RecordAttendance,
    RecordDna,
)
from services.booking.application.context import BookingContext
from services.booking.application.handlers.appointments import (
    AppointmentNotFound,
    AppointmentNotKnownYet,
    NotThisPracticesAppointment,
    cancel_appointment,
    record_attendance,
    record_dna,
)
from services.booking.application.handlers.direct import (
    NotADirectBooking,
    accept_practice_booking,
    direct_book,
)
from services.booking.application.handlers.triage import book_from_triage
from services.booking.application.publishing import is_own
from services.booking.domain.appointment import Appointment, AppointmentNotBooked, AppointmentStatus
from services.booking.domain.direct_booking import DirectBookingRefused
from services.booking.domain.rota import SlotStatus
from shared.contracts.codes import (
    AppointmentType,
    AttendanceStatus,
    BookedBy,
    CancelledBy,
    EscalationReason,
    EscalationTarget,
    Modality,
    NextStep,
)
from shared.contracts.v1 import AppointmentBooked, AppointmentCancelled, CaseEscalated
from shared.errors import NotYet
from tests.support.clock import FakeClock

from ..conftest import HOME, OTHER, PCN, TODAY
from .conftest import AFTER, book_from, call, plan, schedule
from .fakes import FakeBookingUnitOfWork


async def booked(uow: FakeBookingUnitOfWork, ctx: BookingContext) -> Appointment:
    outcome = await book_from_triage(book_from(call()), uow, ctx)
    assert isinstance(outcome, Appointment)
    uow.events.clear()
    return outcome


async def test_a_cancellation_request_is_announced_and_frees_the_slot_for_the_waitlist(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan())
    held = await booked(uow, ctx)
    others = [s for s in uow.slots.rows.values() if s.status is SlotStatus.FREE]
    for slot in others:
        slot.status = SlotStatus.BOOKED
    waiting = call(hours=30)
    await book_from_triage(book_from(waiting), uow, ctx)
    uow.events.clear()
    cancelled = await cancel_appointment(
        CancelAppointment(held.appointment_id, CancelledBy.PATIENT, late=True), uow, ctx
    )
    assert (cancelled.status, cancelled.cancelled_late) == (AppointmentStatus.CANCELLED, True)
    [announced] = uow.events_of(AppointmentCancelled)
    assert (announced.data.cancelled_by, announced.causation_id) == (CancelledBy.PATIENT, None)
    [rebooked] = uow.events_of(AppointmentBooked)
    assert (rebooked.data.call_id, rebooked.data.starts_at) == (waiting.data.call_id, held.starts_at)
    with pytest.raises(AppointmentNotBooked):
        await cancel_appointment(CancelAppointment(held.appointment_id, CancelledBy.PATIENT), uow, ctx)


async def test_a_patient_seen_at_a_cancelled_appointment_is_recorded_and_the_clinical_lead_told(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    """Hazard H12: the outcome stands (the patient was seen) but the slots, now another's, are untouched."""
    await schedule(uow, ctx, plan())
    held = await booked(uow, ctx)
    for slot in uow.slots.rows.values():
        if slot.status is SlotStatus.FREE:
            slot.status = SlotStatus.BOOKED
    await cancel_appointment(CancelAppointment(held.appointment_id, CancelledBy.PATIENT), uow, ctx)
    waiting = call(hours=30)
    await book_from_triage(book_from(waiting), uow, ctx)  # the freed slot goes to another patient
    slots_before = {s.slot_id: s.status for s in uow.slots.rows.values()}
    uow.events.clear()

    seen = RecordAttendance(held.appointment_id, AttendanceStatus.ATTENDED, NextStep.DISCHARGE, AFTER, call())
    await record_attendance(seen, uow, ctx)

    stored = uow.appointments.rows[held.appointment_id]
    assert (stored.status, stored.attendance) == (AppointmentStatus.ATTENDED, AttendanceStatus.ATTENDED)
    assert {s.slot_id: s.status for s in uow.slots.rows.values()} == slots_before
    [told] = uow.events_of(CaseEscalated)
    assert (told.data.target, told.data.reason, told.data.appointment_id) == (
        EscalationTarget.PRACTICE_CLINICAL_LEAD,
        EscalationReason.OUTCOME_FOR_CANCELLED_APPOINTMENT,
        held.appointment_id,
    )
    uow.events.clear()
    await record_attendance(seen, uow, ctx)  # re-sent: one escalation only
    assert uow.events_of(CaseEscalated) == []


async def test_a_practice_notice_is_not_re_announced_and_is_idempotent(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan())
    held = await booked(uow, ctx)
    practice_event = call()  # the practice's own appointment.cancelled, in the tests: any event will do
    notice = CancelAppointment(held.appointment_id, CancelledBy.PATIENT, notice=True, cause=practice_event)
    await cancel_appointment(notice, uow, ctx)
    assert uow.events_of(AppointmentCancelled) == []
    assert uow.appointments.rows[held.appointment_id].attendance is AttendanceStatus.CANCELLED_BY_PATIENT
    assert uow.appointments.live_claims == {}
    again = await cancel_appointment(notice, uow, ctx)
    assert again.status is AppointmentStatus.CANCELLED
    assert uow.events == []


async def test_an_unknown_appointment_is_not_found_for_a_request_and_not_known_yet_for_a_notice(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    with pytest.raises(AppointmentNotFound):
        await cancel_appointment(CancelAppointment(uuid.uuid4(), CancelledBy.PATIENT), uow, ctx)
    with pytest.raises(AppointmentNotKnownYet) as later:
        await cancel_appointment(CancelAppointment(uuid.uuid4(), CancelledBy.PATIENT, notice=True), uow, ctx)
    assert isinstance(later.value, NotYet)  # retried: the booking may still be on its way
    with pytest.raises(NotYet):
        await record_dna(RecordDna(uuid.uuid4(), AttendanceStatus.DID_NOT_ATTEND, AFTER, call()), uow, ctx)


async def test_a_dna_is_recorded_without_booking_anything(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan())
    held = await booked(uow, ctx)
    await record_dna(RecordDna(held.appointment_id, AttendanceStatus.DID_NOT_ATTEND, AFTER, call()), uow, ctx)
    stored = uow.appointments.rows[held.appointment_id]
    assert (stored.status, stored.attendance) == (AppointmentStatus.DNA, AttendanceStatus.DID_NOT_ATTEND)
    assert uow.events == []


async def test_an_outcome_or_notice_from_a_practice_the_appointment_is_not_of_is_refused(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    """The broker proves the sender's practice; booking proves the appointment is that practice's."""
    await schedule(uow, ctx, plan())
    held = await booked(uow, ctx)
    stranger = call(practice="Y01236")  # the same PCN, neither the patient's practice nor the session's
    with pytest.raises(NotThisPracticesAppointment):
        await record_attendance(
            RecordAttendance(
                held.appointment_id, AttendanceStatus.ATTENDED, NextStep.DISCHARGE, AFTER, stranger
            ),
            uow,
            ctx,
        )
    with pytest.raises(NotThisPracticesAppointment):
        await record_dna(
            RecordDna(held.appointment_id, AttendanceStatus.DID_NOT_ATTEND, AFTER, stranger), uow, ctx
        )
    notice = CancelAppointment(held.appointment_id, CancelledBy.PATIENT, notice=True, cause=stranger)
    with pytest.raises(NotThisPracticesAppointment):
        await cancel_appointment(notice, uow, ctx)
    stored = uow.appointments.rows[held.appointment_id]
    assert (stored.status, stored.attendance) == (AppointmentStatus.BOOKED, None)
    # The patient's own practice may report it.
    await record_dna(RecordDna(held.appointment_id, AttendanceStatus.DID_NOT_ATTEND, AFTER, call()), uow, ctx)
    assert uow.appointments.rows[held.appointment_id].status is AppointmentStatus.DNA


async def test_a_follow_up_goes_into_the_next_session_at_the_same_practice(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(
        uow, ctx, plan(), plan(OTHER, day=TODAY + timedelta(days=1)), plan(day=TODAY + timedelta(days=2))
    )
    held = await booked(uow, ctx)
    cause = call()
    follow_up = await record_attendance(
        RecordAttendance(held.appointment_id, AttendanceStatus.ATTENDED, NextStep.FOLLOW_UP, AFTER, cause),
        uow,
        ctx,
    )
    assert follow_up is not None
    assert (follow_up.practice_ods, follow_up.starts_at.date()) == (HOME, TODAY + timedelta(days=2))
    assert (follow_up.appointment_type, follow_up.correlation_id) == (
        AppointmentType.SECOND_ASSESSMENT,
        held.correlation_id,
    )
    assert uow.appointments.rows[held.appointment_id].status is AppointmentStatus.ATTENDED
    [announced] = uow.events_of(AppointmentBooked)
    assert announced.causation_id == cause.event_id
    again = RecordAttendance(held.appointment_id, AttendanceStatus.ATTENDED, NextStep.FOLLOW_UP, AFTER, cause)
    assert await record_attendance(again, uow, ctx) is None  # re-sent: nothing booked twice


@pytest.mark.parametrize(
    ("step", "target"),
    [(NextStep.PRESCRIPTION, EscalationTarget.DUTY_GP), (NextStep.FOLLOW_UP, EscalationTarget.GP)],
)
async def test_with_no_room_ahead_the_clinician_is_tasked(
    uow: FakeBookingUnitOfWork, ctx: BookingContext, step: NextStep, target: EscalationTarget
) -> None:
    await schedule(uow, ctx, plan())
    held = await booked(uow, ctx)
    cause = call()
    assert (
        await record_attendance(
            RecordAttendance(held.appointment_id, AttendanceStatus.ATTENDED, step, AFTER, cause), uow, ctx
        )
        is None
    )
    [escalated] = uow.events_of(CaseEscalated)
    assert (escalated.data.target, escalated.data.reason) == (target, EscalationReason.FOLLOW_UP_OVERDUE)
    assert (escalated.data.appointment_id, escalated.correlation_id) == (
        held.appointment_id,
        cause.correlation_id,
    )


async def test_a_discharge_books_nothing(uow: FakeBookingUnitOfWork, ctx: BookingContext) -> None:
    await schedule(uow, ctx, plan(), plan(day=TODAY + timedelta(days=1)))
    held = await booked(uow, ctx)
    command = RecordAttendance(
        held.appointment_id, AttendanceStatus.ATTENDED, NextStep.DISCHARGE, AFTER, call()
    )
    assert await record_attendance(command, uow, ctx) is None
    assert uow.events == []


def direct(start: datetime, appointment_id: uuid.UUID | None = None, minutes: int = 30) -> DirectBook:
    return DirectBook(
        appointment_id=appointment_id or uuid.uuid4(),
        pcn_code=PCN,
        practice_ods=HOME,
        starts_at=start,
        minutes=minutes,
        modality=Modality.TELEPHONE,
        appointment_type=AppointmentType.INITIAL_ASSESSMENT,
        call_id=None,
        correlation_id=uuid.uuid4(),
    )


def starts(uow: FakeBookingUnitOfWork) -> list[datetime]:
    return sorted(s.starts_at for s in uow.slots.rows.values())


async def test_direct_bookings_stop_at_the_weekly_cap_until_it_is_raised(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan())
    times = starts(uow)
    for start in times[:2]:
        made = await direct_book(direct(start), uow, ctx)
        assert made.booked_by is BookedBy.PRACTICE_DIRECT
    assert len(uow.events_of(AppointmentBooked)) == 2
    with pytest.raises(DirectBookingRefused, match="weekly direct-booking cap reached: 2 of 2"):
        await direct_book(direct(times[2]), uow, ctx)
    uow.caps.rows[HOME] = 5
    await direct_book(direct(times[2]), uow, ctx)
    with pytest.raises(DirectBookingRefused, match="not free"):
        await direct_book(direct(times[2]), uow, ctx)
    with pytest.raises(DirectBookingRefused, match="no MHP clinical slot"):
        await direct_book(direct(times[-1]), uow, ctx)  # the admin slot


async def test_a_re_sent_direct_booking_answers_the_first_without_a_second_announcement(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan())
    command = direct(starts(uow)[0])
    first = await direct_book(command, uow, ctx)
    uow.events.clear()
    assert (await direct_book(command, uow, ctx)).appointment_id == first.appointment_id
    assert uow.events == []


async def test_a_practice_systems_booking_over_the_cap_is_kept_as_a_refusal_and_answered_by_cancellation(
    uow: FakeBookingUnitOfWork, ctx: BookingContext, clock: FakeClock
) -> None:
    await schedule(uow, ctx, plan())
    times = starts(uow)
    cause = call()
    for start in times[:2]:
        assert await accept_practice_booking(
            AcceptPracticeBooking(direct(start), BookedBy.PRACTICE_DIRECT, cause), uow, ctx
        )
    assert uow.events_of(AppointmentBooked) == []  # the practice announced them itself
    refused = direct(times[2])
    assert (
        await accept_practice_booking(
            AcceptPracticeBooking(refused, BookedBy.PRACTICE_DIRECT, cause), uow, ctx
        )
        is None
    )
    [answer] = uow.events_of(AppointmentCancelled)
    assert (answer.data.appointment_id, answer.data.cancelled_by, answer.causation_id) == (
        refused.appointment_id,
        CancelledBy.PROVIDER,
        cause.event_id,
    )
    [kept] = await queries.refusals(uow, HOME)
    assert (kept.appointment_id, kept.refused_at) == (refused.appointment_id, clock.now)
    uow.caps.rows[HOME] = 10
    with pytest.raises(DirectBookingRefused, match="already refused"):
        await direct_book(refused, uow, ctx)
    with pytest.raises(NotADirectBooking):
        await accept_practice_booking(
            AcceptPracticeBooking(direct(times[3]), BookedBy.MHP_SERVICE, cause), uow, ctx
        )


async def test_attendance_review_lists_only_appointments_still_booked_well_after_their_end(
    uow: FakeBookingUnitOfWork, ctx: BookingContext, clock: FakeClock
) -> None:
    await schedule(uow, ctx, plan())
    seen, unknown = await booked(uow, ctx), await booked(uow, ctx)
    await record_attendance(
        RecordAttendance(seen.appointment_id, AttendanceStatus.ATTENDED, NextStep.DISCHARGE, AFTER, call()),
        uow,
        ctx,
    )
    assert await queries.attendance_review(uow, ctx, PCN) == []
    clock.now = unknown.ends_at + ctx.attendance_review_after
    assert [a.appointment_id for a in await queries.attendance_review(uow, ctx, PCN)] == [
        unknown.appointment_id
    ]
    assert (
        uow.appointments.rows[unknown.appointment_id].status is AppointmentStatus.BOOKED
    )  # never a guessed DNA


async def test_prescription_slots_are_counted_unless_cancelled(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan(), plan(day=TODAY + timedelta(days=1)))
    held = await booked(uow, ctx)
    command = RecordAttendance(
        held.appointment_id, AttendanceStatus.ATTENDED, NextStep.PRESCRIPTION, AFTER, call()
    )
    prescription = await record_attendance(command, uow, ctx)
    assert prescription is not None
    assert prescription.appointment_type is AppointmentType.PRESCRIPTION
    assert await queries.prescription_slots(uow, PCN, None, None) == 1
    await cancel_appointment(CancelAppointment(prescription.appointment_id, CancelledBy.PATIENT), uow, ctx)
    assert await queries.prescription_slots(uow, PCN, None, None) == 0


def test_booking_recognises_only_its_own_producer_exactly() -> None:
    event = call()
    assert not is_own(event)
    assert is_own(event.model_copy(update={"producer": f"{PCN}/booking"}))
    assert not is_own(event.model_copy(update={"producer": f"{HOME}/booking"}))
