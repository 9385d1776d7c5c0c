"""The Appointment aggregate: cancel (only when booked), attend, DNA, and what a cancelled session rebooks."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.booking.domain.appointment import (
    Appointment,
    AppointmentNotBooked,
    AppointmentStatus,
    OutcomeBeforeStart,
    book_on,
)
from services.booking.domain.events import AppointmentWasCancelled
from services.booking.domain.rota import RotaSession
from shared.contracts.codes import (
    AppointmentType,
    AttendanceStatus,
    BookedBy,
    CancelledBy,
    Modality,
    NextStep,
)
from shared.errors import RuleViolation

from ..conftest import HOME, NOW, OTHER
from .conftest import plan


def appointment(minutes: int = 30, respond_by: object = None, **overrides: object) -> Appointment:
    session, _ = RotaSession.schedule(plan(OTHER, modalities=(Modality.VIDEO,)), uuid.uuid4())
    slots = session.slots[: minutes // 30]
    fields: dict[str, object] = {
        "appointment_id": uuid.uuid4(),
        "correlation_id": uuid.uuid4(),
        "call_id": uuid.uuid4(),
        "home_practice_ods": HOME,
        "modality": None,
        "minutes": minutes,
        "appointment_type": AppointmentType.INITIAL_ASSESSMENT,
        "booked_by": BookedBy.MHP_SERVICE,
        "respond_by": respond_by,
        "now": NOW,
    }
    fields.update(overrides)
    return book_on(slots, **fields)  # type: ignore[arg-type]


def test_booking_on_slots_spans_them_and_keeps_the_patients_practice() -> None:
    a = appointment(minutes=60)
    assert a.ends_at - a.starts_at == timedelta(minutes=60)
    assert len(a.slot_ids) == 2
    assert (a.practice_ods, a.home_practice_ods, a.modality) == (OTHER, HOME, Modality.VIDEO)
    assert a.status is AppointmentStatus.BOOKED


@pytest.mark.parametrize(
    ("by", "code"),
    [
        (CancelledBy.PATIENT, AttendanceStatus.CANCELLED_BY_PATIENT),
        (CancelledBy.PROVIDER, AttendanceStatus.CANCELLED_BY_PROVIDER),
    ],
)
def test_cancelling_records_who_and_announces_it_to_the_patients_practice(
    by: CancelledBy, code: AttendanceStatus
) -> None:
    a = appointment()
    [event] = a.cancel(by, late=True)
    assert (a.status, a.attendance, a.cancelled_late) == (AppointmentStatus.CANCELLED, code, True)
    assert event == AppointmentWasCancelled(a.appointment_id, by, True, a.pcn_code, HOME, a.correlation_id)


@pytest.mark.parametrize(
    "status", [AppointmentStatus.CANCELLED, AppointmentStatus.ATTENDED, AppointmentStatus.DNA]
)
def test_only_a_booked_appointment_can_be_cancelled(status: AppointmentStatus) -> None:
    a = appointment()
    a.status = status
    with pytest.raises(AppointmentNotBooked) as refused:
        a.cancel(CancelledBy.PATIENT)
    assert isinstance(refused.value, RuleViolation)
    assert refused.value.reason == f"status: appointment is {status.value}, not booked"
    assert a.status is status


def test_attendance_is_recorded_once() -> None:
    a = appointment()
    assert a.attend(AttendanceStatus.ARRIVED_LATE_SEEN, NextStep.FOLLOW_UP, recorded_at=a.starts_at)
    assert (a.status, a.attendance, a.next_step) == (
        AppointmentStatus.ATTENDED,
        AttendanceStatus.ARRIVED_LATE_SEEN,
        NextStep.FOLLOW_UP,
    )
    assert not a.attend(AttendanceStatus.ATTENDED, NextStep.DISCHARGE, recorded_at=a.ends_at)
    assert a.next_step is NextStep.FOLLOW_UP


def test_dna_is_recorded_on_a_booked_or_dna_appointment_only() -> None:
    a = appointment()
    assert a.dna(AttendanceStatus.DID_NOT_ATTEND, recorded_at=a.ends_at)
    assert a.dna(AttendanceStatus.DID_NOT_ATTEND, recorded_at=a.ends_at)  # re-sent: still DNA
    seen = appointment()
    seen.attend(AttendanceStatus.ATTENDED, NextStep.DISCHARGE, recorded_at=seen.ends_at)
    assert not seen.dna(AttendanceStatus.DID_NOT_ATTEND, recorded_at=seen.ends_at)
    assert seen.status is AppointmentStatus.ATTENDED


def test_a_provider_cancellation_rebooks_before_the_clinical_deadline() -> None:
    deadline = NOW + timedelta(hours=6)
    request = appointment(respond_by=deadline).rebooking(timedelta(days=7))
    assert (request.respond_by, request.deadline_is_clinical) == (deadline, True)


def test_without_a_deadline_the_rebooking_window_stands_in_and_is_not_kept_as_one() -> None:
    a = appointment(booked_by=BookedBy.PRACTICE_DIRECT)
    request = a.rebooking(timedelta(days=7))
    assert request.respond_by == a.starts_at + timedelta(days=7)
    assert not request.deadline_is_clinical
    assert (request.replaces, request.booked_by) == (a.appointment_id, BookedBy.PRACTICE_DIRECT)
    [slot] = RotaSession.schedule(plan(HOME), uuid.uuid4())[0].slots[:1]
    assert request.appointment_on([slot], NOW).respond_by is None


def test_no_outcome_can_be_recorded_before_the_appointment_starts() -> None:
    a = appointment()
    early = a.starts_at - timedelta(seconds=1)
    with pytest.raises(OutcomeBeforeStart) as refused:
        a.attend(AttendanceStatus.ATTENDED, NextStep.DISCHARGE, recorded_at=early)
    assert isinstance(refused.value, RuleViolation)
    assert "before the appointment starts" in refused.value.reason
    with pytest.raises(OutcomeBeforeStart):
        a.dna(AttendanceStatus.DID_NOT_ATTEND, recorded_at=early)
    assert (a.status, a.attendance) == (AppointmentStatus.BOOKED, None)
