"""Bounds on what booking accepts: weeks at the ends of the calendar, the rota's window, coded session
cancellations, bounded instants in request models, outcomes before the appointment starts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from services.booking.application.commands import CancelSession, LoadRota, RecordAttendance, RecordDna
from services.booking.application.context import BookingContext
from services.booking.application.handlers.appointments import record_attendance, record_dna
from services.booking.application.handlers.rota import cancel_session, load_rota
from services.booking.application.handlers.triage import book_from_triage
from services.booking.domain.appointment import Appointment, AppointmentStatus, OutcomeBeforeStart
from services.booking.domain.rota import ROTA_AHEAD, SessionOutsideRotaWindow, check_rota_window, week_bounds
from services.booking.entrypoints.fhir_resources import parse_start
from services.booking.entrypoints.http_models import CancelSessionRequest, DirectBookingRequest
from shared.contracts.codes import AttendanceStatus, NextStep, SessionCancellationReason
from shared.contracts.v1 import SessionCancelled
from shared.errors import RuleViolation

from ..conftest import HOME, NOW, PCN, TODAY
from .conftest import book_from, call, plan, schedule
from .fakes import FakeBookingUnitOfWork


@pytest.mark.parametrize(
    "instant",
    [
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-12))),
    ],
)
def test_week_bounds_never_overflow_at_the_ends_of_the_calendar(instant: datetime) -> None:
    start, end = week_bounds(instant)
    assert start <= end
    assert start.tzinfo is not None
    assert end.tzinfo is not None


def test_week_bounds_are_unchanged_inside_the_calendar() -> None:
    assert week_bounds(datetime(2026, 6, 3, 12, tzinfo=UTC)) == (
        datetime(2026, 5, 31, 23, tzinfo=UTC),  # Monday 1 June 00:00 BST
        datetime(2026, 6, 7, 23, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("day", "rule"),
    [
        (TODAY - timedelta(days=1), "is in the past"),
        (date(1, 1, 1), "is in the past"),
        (TODAY + ROTA_AHEAD + timedelta(days=1), "more than a year ahead"),
        (date(9999, 12, 31), "more than a year ahead"),
    ],
)
def test_the_rota_holds_sessions_from_today_to_a_year_ahead(day: date, rule: str) -> None:
    check_rota_window([plan(day=TODAY), plan(day=TODAY + ROTA_AHEAD)], NOW)
    with pytest.raises(SessionOutsideRotaWindow) as refused:
        check_rota_window([plan(day=TODAY), plan(day=day)], NOW)
    assert isinstance(refused.value, RuleViolation)
    assert refused.value.reason.startswith("sessions[1].session_date: ")
    assert rule in refused.value.reason


async def test_a_rota_with_one_session_outside_the_window_loads_nothing(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    with pytest.raises(SessionOutsideRotaWindow):
        await load_rota(LoadRota((plan(), plan(day=date(9999, 12, 31)))), uow, ctx)
    assert (uow.sessions.rows, uow.slots.rows, uow.events) == ({}, {}, [])


async def test_a_session_cancellation_publishes_its_reason_code(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    [session_id] = await schedule(uow, ctx, plan())
    await cancel_session(CancelSession(session_id, SessionCancellationReason.TRAINING), uow, ctx)
    [cancelled] = uow.events_of(SessionCancelled)
    assert (cancelled.data.reason_code, cancelled.data.reason) == (SessionCancellationReason.TRAINING, None)


def test_a_session_cancellation_request_needs_a_code_and_identifier_free_text() -> None:
    with pytest.raises(ValidationError, match="reason_code"):
        CancelSessionRequest.model_validate({"reason": "MHP off sick"})
    for text in ("patient 943 476 5919 asked", "born 12/03/1984", "off\u202esick", "nul\x00"):
        with pytest.raises(ValidationError):
            CancelSessionRequest.model_validate({"reason_code": "clinician_sickness", "reason": text})
    ok = CancelSessionRequest.model_validate({"reason_code": "clinician_sickness", "reason": "MHP off sick"})
    assert ok.reason_code is SessionCancellationReason.CLINICIAN_SICKNESS


@pytest.mark.parametrize(
    "starts_at",
    [
        "9999-12-31T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        1780300800,
    ],
)
def test_a_direct_booking_start_outside_the_sane_window_is_a_validation_error(starts_at: object) -> None:
    body = {"pcn_code": PCN, "practice_ods": HOME, "starts_at": starts_at, "modality": "telephone"}
    with pytest.raises(ValidationError, match="starts_at"):
        DirectBookingRequest.model_validate(body)


@pytest.mark.parametrize(
    "value", ["ge9999-12-31T00:00:00Z", "ge0001-01-01T00:00:00+01:00", "le1999-12-31T00:00:00Z"]
)
def test_a_fhir_slot_search_outside_the_sane_window_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="start: must be between 2000-01-01 and two years ahead"):
        parse_start([value])


async def test_an_outcome_recorded_before_the_appointment_starts_is_a_rule_violation(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan(), plan(day=TODAY + timedelta(days=1)))
    held = await book_from_triage(book_from(call()), uow, ctx)
    assert isinstance(held, Appointment)
    uow.events.clear()
    early = held.starts_at - timedelta(minutes=1)
    attended = RecordAttendance(
        held.appointment_id, AttendanceStatus.ATTENDED, NextStep.FOLLOW_UP, early, call()
    )
    with pytest.raises(OutcomeBeforeStart):
        await record_attendance(attended, uow, ctx)
    with pytest.raises(OutcomeBeforeStart):
        await record_dna(
            RecordDna(held.appointment_id, AttendanceStatus.DID_NOT_ATTEND, early, call()), uow, ctx
        )
    assert uow.appointments.rows[held.appointment_id].status is AppointmentStatus.BOOKED
    assert uow.events == []
    on_time = RecordAttendance(
        held.appointment_id, AttendanceStatus.ATTENDED, NextStep.DISCHARGE, held.starts_at, call()
    )
    await record_attendance(on_time, uow, ctx)
    assert uow.appointments.rows[held.appointment_id].status is AppointmentStatus.ATTENDED


def test_a_slot_search_window_is_bounded_and_defaults_from_now() -> None:
    from services.booking.application.queries import MAX_SLOT_SEARCH, SlotWindowTooWide, slot_window

    assert slot_window(None, None, NOW) == (NOW, NOW + MAX_SLOT_SEARCH)
    assert slot_window(None, NOW, NOW) == (NOW - MAX_SLOT_SEARCH, NOW)
    assert slot_window(NOW, NOW + timedelta(days=7), NOW) == (NOW, NOW + timedelta(days=7))
    with pytest.raises(SlotWindowTooWide, match="at most 62 days"):
        slot_window(NOW, NOW + MAX_SLOT_SEARCH + timedelta(seconds=1), NOW)
    with pytest.raises(SlotWindowTooWide, match="before from"):
        slot_window(NOW, NOW - timedelta(days=1), NOW)
