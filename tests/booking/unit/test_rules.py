"""Rota, waitlist, direct-booking and follow-up rules (pure functions and small aggregates)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.booking.domain.appointment import BookingRequest
from services.booking.domain.direct_booking import (
    DirectBookingRefused,
    check_start_slot,
    check_weekly_cap,
    direct_search,
)
from services.booking.domain.events import CaseNeedsEscalation, CaseWaitlisted, SessionWasCancelled
from services.booking.domain.follow_up import (
    next_appointment_type,
    next_session_searches,
    overdue_escalation_target,
)
from services.booking.domain.rota import RoomRequired, RotaSession, SessionStatus, SlotKind
from services.booking.domain.waitlist import WaitlistEntry, by_deadline, waitlisting_events
from shared.contracts.codes import (
    AppointmentType,
    EscalationReason,
    EscalationTarget,
    Modality,
    NextStep,
    SessionCancellationReason,
)
from shared.errors import RuleViolation

from ..conftest import HOME, NOW, PCN
from .conftest import plan
from .test_appointment_rules import appointment


def test_a_face_to_face_session_needs_a_room_as_a_rule_violation() -> None:
    with pytest.raises(RoomRequired) as refused:
        plan(modalities=(Modality.FACE_TO_FACE,))
    assert isinstance(refused.value, RuleViolation)
    assert "room" in refused.value.reason
    assert plan(modalities=(Modality.FACE_TO_FACE,), room="Room 2").room == "Room 2"


def test_a_session_is_scheduled_with_its_slots_and_cancelled_once() -> None:
    session, [scheduled] = RotaSession.schedule(plan(), uuid.uuid4())
    assert scheduled.session is session
    assert [s.kind for s in session.slots].count(SlotKind.ADMIN) == 1
    assert {s.session_id for s in session.slots} == {session.session_id}
    sick = SessionCancellationReason.CLINICIAN_SICKNESS
    assert session.cancel(sick, "MHP off sick") == [SessionWasCancelled(session, sick, "MHP off sick")]
    assert session.status is SessionStatus.CANCELLED
    assert session.cancel(SessionCancellationReason.OTHER, "again") == []


def request(
    hours: float, call_id: uuid.UUID | None = None, replaces: uuid.UUID | None = None
) -> BookingRequest:
    return BookingRequest(
        call_id, uuid.uuid4(), PCN, HOME, NOW + timedelta(hours=hours), None, 30, replaces=replaces
    )


def test_the_waitlist_is_served_earliest_deadline_first() -> None:
    entries = [
        WaitlistEntry.of(request(h, uuid.uuid4()), cause_event_id=uuid.uuid4(), now=NOW) for h in (70, 30, 50)
    ]
    assert [e.respond_by - NOW for e in by_deadline(entries)] == [timedelta(hours=h) for h in (30, 50, 70)]


def test_among_equal_deadlines_the_first_to_wait_is_offered_first() -> None:
    same_deadline = [
        WaitlistEntry.of(
            request(24, uuid.uuid4()), cause_event_id=uuid.uuid4(), now=NOW + timedelta(minutes=m)
        )
        for m in (20, 0, 10)
    ]
    assert [e.created_at - NOW for e in by_deadline(same_deadline)] == [
        timedelta(minutes=m) for m in (0, 10, 20)
    ]


def test_a_waitlisted_case_is_escalated_to_the_practice_clinical_lead_with_its_deadline() -> None:
    cancelled = uuid.uuid4()
    entry = WaitlistEntry.of(request(24, replaces=cancelled), cause_event_id=uuid.uuid4(), now=NOW)
    # A direct booking has no call: the entry is keyed by the appointment it replaces.
    assert entry.call_id == cancelled
    waitlisted, escalated = waitlisting_events(entry, replaces=cancelled, call_id=None)
    assert waitlisted == CaseWaitlisted(entry)
    assert isinstance(escalated, CaseNeedsEscalation)
    assert (escalated.target, escalated.reason) == (
        EscalationTarget.PRACTICE_CLINICAL_LEAD,
        EscalationReason.APPOINTMENT_CANCELLED,  # it replaces an appointment the provider cancelled
    )
    assert (escalated.due_at, escalated.appointment_id, escalated.practice_ods) == (
        entry.respond_by,
        cancelled,
        HOME,
    )


def test_a_waiting_case_takes_any_slot_soonest_not_only_before_its_deadline() -> None:
    entry = WaitlistEntry.of(request(24, uuid.uuid4()), cause_event_id=uuid.uuid4(), now=NOW)
    searches = entry.request().searches(NOW, within_deadline=False)
    assert [(q.practice_ods, q.starts_before) for q in searches] == [(HOME, None), (None, None)]
    assert [q.starts_before for q in entry.request().searches(NOW)] == [entry.respond_by] * 2


def test_the_weekly_direct_booking_cap_refuses_at_the_cap_naming_the_london_week() -> None:
    check_weekly_cap(used=1, cap=2, practice_ods=HOME, week_start=NOW)
    with pytest.raises(DirectBookingRefused, match="weekly direct-booking cap reached: 2 of 2") as refused:
        check_weekly_cap(used=2, cap=2, practice_ods=HOME, week_start=datetime(2026, 3, 22, 23, tzinfo=UTC))
    assert "week starting 2026-03-22" in refused.value.reason
    with pytest.raises(DirectBookingRefused):
        check_weekly_cap(used=0, cap=0, practice_ods=HOME, week_start=NOW)


def test_a_direct_booking_must_start_at_a_clinical_slot_and_asks_for_exactly_that_slot() -> None:
    session, _ = RotaSession.schedule(plan(), uuid.uuid4())
    with pytest.raises(DirectBookingRefused, match="no MHP clinical slot"):
        check_start_slot(None)
    with pytest.raises(DirectBookingRefused, match="no MHP clinical slot"):
        check_start_slot(session.slots[-1])  # the admin slot
    start = check_start_slot(session.slots[2])
    q = direct_search(start, modality=Modality.TELEPHONE, minutes=60)
    assert (q.practice_ods, q.session_id, q.not_before, q.minutes) == (
        HOME,
        start.session_id,
        start.starts_at,
        60,
    )
    assert q.starts_before is not None
    assert q.starts_before - start.starts_at == timedelta(seconds=1)


@pytest.mark.parametrize(
    ("previous", "step", "expected"),
    [
        (AppointmentType.INITIAL_ASSESSMENT, NextStep.FOLLOW_UP, AppointmentType.SECOND_ASSESSMENT),
        (AppointmentType.SECOND_ASSESSMENT, NextStep.FOLLOW_UP, AppointmentType.FOLLOW_UP),
        (AppointmentType.FOLLOW_UP, NextStep.PRESCRIPTION, AppointmentType.PRESCRIPTION),
        (AppointmentType.INITIAL_ASSESSMENT, NextStep.REFERRAL, None),
        (AppointmentType.INITIAL_ASSESSMENT, NextStep.DISCHARGE, None),
    ],
)
def test_the_next_step_decides_the_next_appointment(
    previous: AppointmentType, step: NextStep, expected: AppointmentType | None
) -> None:
    assert next_appointment_type(previous, step) is expected


def test_an_unbookable_prescription_goes_to_the_duty_gp_and_other_follow_ups_to_the_gp() -> None:
    assert overdue_escalation_target(AppointmentType.PRESCRIPTION) is EscalationTarget.DUTY_GP
    assert overdue_escalation_target(AppointmentType.SECOND_ASSESSMENT) is EscalationTarget.GP


def test_a_follow_up_looks_in_the_same_practices_sessions_in_order_after_the_last_one_ends() -> None:
    previous = appointment()
    ids = [uuid.uuid4(), uuid.uuid4()]
    searches = next_session_searches(previous, ids, NOW)
    assert [q.session_id for q in searches] == ids
    assert all(q.practice_ods == previous.practice_ods and q.modality is None for q in searches)
    assert searches[0].not_before == previous.ends_at  # ends after NOW
    assert (
        next_session_searches(previous, ids, previous.ends_at + timedelta(days=1))[0].not_before
        > previous.ends_at
    )
