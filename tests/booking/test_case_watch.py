"""The case watch on a real broker and database, with a fake clock: re-triage applied in order, a
cancellation never drops the case, a waiting case re-escalated until booked, a missing outcome escalated."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from services.booking.adapters.case_watch_tables import IgnoredDecision
from services.booking.adapters.tables import Appointment, WaitlistEntry
from services.booking.adapters.unit_of_work import SqlBookingUnitOfWork
from services.booking.application.commands import CancelAppointment
from services.booking.application.context import BookingContext
from services.booking.application.handlers.appointments import cancel_appointment
from services.booking.bootstrap import BookingHost, build_host
from shared.contracts.codes import CancelledBy, Disposition, Modality, TriageCode
from shared.contracts.routing import binding_key
from shared.contracts.v1 import AppointmentCancelled, AppointmentCancelledData, CallTriaged, CallTriagedData
from shared.messaging.inbox import already_processed
from tests.support.amqp import EventCapture, eventually, publish_event
from tests.support.clock import FakeClock

from .conftest import HOME, NOW, PCN, TODAY, booking_settings, entry, load

pytestmark = pytest.mark.integration

WINDOW = {
    TriageCode.C: timedelta(hours=24),
    TriageCode.D: timedelta(hours=72),
    TriageCode.E: timedelta(days=28),
}


@pytest.fixture
async def watched(amqp_url: str, booking_db_url: str) -> AsyncIterator[tuple[BookingHost, FakeClock]]:
    clock = FakeClock(NOW)
    host = build_host(booking_settings(amqp_url, booking_db_url, watchdog_interval_seconds=0.05), clock=clock)
    await host.start()
    yield host, clock
    await host.stop()


def decision(call_id: uuid.UUID, correlation_id: uuid.UUID, code: TriageCode, sequence: int) -> CallTriaged:
    escalate = code is TriageCode.A
    return CallTriaged.create(
        CallTriagedData(
            call_id=call_id,
            triage_code=code,
            disposition=Disposition.ESCALATE if escalate else Disposition.APPOINTMENT,
            respond_by=None if escalate else NOW + WINDOW[code],
            modality=None if escalate else Modality.TELEPHONE,
            appointment_minutes=None if escalate else 30,
            decision_sequence=sequence,
            supersedes=uuid.uuid4() if sequence > 1 else None,
            clinician="mhp-1",
        ),
        producer="RMH/triage",
        pcn_code=PCN,
        practice_ods=HOME,
        correlation_id=correlation_id,
    )


async def deliver_in_order(host: BookingHost, url: str, *events: CallTriaged) -> None:
    """Publish one at a time, each applied (or ignored) before the next: the delivery order is the test's."""
    for event in events:
        await publish_event(url, event)

        async def processed(event_id: uuid.UUID = event.event_id) -> bool:
            async with host.db.read() as session:
                return await already_processed(session, "booking.on_call_triaged", event_id)

        await eventually(processed, message="decision was never processed")


async def rows(host: BookingHost, table: type[Any], **where: object) -> list[Any]:
    async with host.db.read() as session:
        query: Any = select(table)
        for name, value in where.items():
            query = query.where(getattr(table, name) == value)
        return list((await session.exec(query)).all())


async def passes(host: BookingHost, times: int = 3) -> None:
    """Wait for whole watchdog passes (not wall time): what it would do, it has then done."""
    target = host.watchdog.passes + times
    await eventually(lambda: host.watchdog.passes >= target, message="watchdog did not scan")


def escalations(capture: EventCapture, reason: str) -> list[dict[str, object]]:
    return [e for e in capture.of_type("case.escalated") if e["data"]["reason"] == reason]


async def test_re_triage_out_of_order_ends_with_the_newest_decision(
    watched: tuple[BookingHost, FakeClock], amqp_url: str
) -> None:
    host, _ = watched
    await load(host, *(entry(day=TODAY + timedelta(days=d)) for d in (0, 2, 7)))
    call_id, episode = uuid.uuid4(), uuid.uuid4()
    e, d, c = (
        decision(call_id, episode, code, n)
        for n, code in enumerate((TriageCode.E, TriageCode.D, TriageCode.C), 1)
    )
    await deliver_in_order(host, amqp_url, e, c, d)  # E -> D -> C delivered 1, 3, 2
    [booked] = await rows(host, Appointment, call_id=call_id, status="booked")
    assert booked.starts_at < NOW + timedelta(hours=24)
    assert booked.respond_by == c.data.respond_by
    [ignored] = await rows(host, IgnoredDecision, call_id=call_id)
    assert (ignored.event_id, ignored.ordering, ignored.applied_sequence) == (d.event_id, "older", 3)

    call_id, episode = uuid.uuid4(), uuid.uuid4()
    c, a = decision(call_id, episode, TriageCode.C, 1), decision(call_id, episode, TriageCode.A, 2)
    await deliver_in_order(host, amqp_url, a, c)  # C -> A delivered A first
    assert await rows(host, Appointment, call_id=call_id) == []
    assert await rows(host, WaitlistEntry, call_id=call_id) == []


async def test_a_cancellation_never_drops_the_case(
    watched: tuple[BookingHost, FakeClock], amqp_url: str
) -> None:
    host, _ = watched
    await load(host, entry())
    by_provider, by_patient = (decision(uuid.uuid4(), uuid.uuid4(), TriageCode.C, 1) for _ in range(2))
    await deliver_in_order(host, amqp_url, by_provider, by_patient)
    [first] = await rows(host, Appointment, call_id=by_provider.data.call_id, status="booked")
    [second] = await rows(host, Appointment, call_id=by_patient.data.call_id, status="booked")
    async with EventCapture(amqp_url, binding_key("appointment.*"), binding_key("case.escalated")) as capture:
        # The practice's system reports the provider's cancellation: booking rebooks inside the deadline.
        notice = AppointmentCancelled.create(
            AppointmentCancelledData(appointment_id=first.appointment_id, cancelled_by=CancelledBy.PROVIDER),
            producer=f"{HOME}/clinical-system",
            pcn_code=PCN,
            practice_ods=HOME,
            correlation_id=by_provider.correlation_id,
        )
        await publish_event(amqp_url, notice)

        async def rebooked() -> bool:
            return bool(await rows(host, Appointment, call_id=by_provider.data.call_id, status="booked"))

        await eventually(rebooked, message="the provider-cancelled case was not rebooked")
        # The patient cancels through booking (as HTTP and FHIR do): announced for referrals' follow-up.
        async with SqlBookingUnitOfWork.begin(host.db) as uow:
            command = CancelAppointment(second.appointment_id, CancelledBy.PATIENT)
            await cancel_appointment(command, uow, BookingContext(clock=lambda: NOW))
        await eventually(lambda: len(capture.of_type("appointment.cancelled")) == 2)
        await eventually(lambda: len(capture.of_type("appointment.booked")) == 1)
    [again] = await rows(host, Appointment, call_id=by_provider.data.call_id, status="booked")
    assert again.starts_at != first.starts_at
    assert again.starts_at < NOW + timedelta(hours=24)
    announced = [e for e in capture.of_type("appointment.cancelled") if e["producer"] == f"{PCN}/booking"]
    [patient] = announced
    assert patient["data"] == {
        "appointment_id": str(second.appointment_id),
        "cancelled_by": "patient",
        "late": False,
    }
    assert patient["correlation_id"] == str(by_patient.correlation_id)
    assert await rows(host, WaitlistEntry, call_id=by_patient.data.call_id) == []  # the patient's choice


async def test_a_waiting_c_case_is_re_escalated_until_a_new_session_books_it_and_its_outcome_is_chased(
    watched: tuple[BookingHost, FakeClock], amqp_url: str
) -> None:
    host, clock = watched
    case = decision(uuid.uuid4(), uuid.uuid4(), TriageCode.C, 1)
    async with EventCapture(amqp_url, binding_key("case.escalated")) as capture:
        await deliver_in_order(host, amqp_url, case)  # no rota: waits, escalated at waitlisting
        await eventually(lambda: len(escalations(capture, "appointment_deadline_at_risk")) == 1)
        await passes(host)
        for looks in (2, 3):
            clock.advance(timedelta(hours=2))
            await eventually(lambda n=looks: len(escalations(capture, "appointment_deadline_at_risk")) == n)  # type: ignore[misc]
            await passes(host)
        # The rota gains a session tomorrow morning: the waiting case is booked into it, first.
        [session_id] = await load(host, entry(day=TODAY + timedelta(days=1)), now=clock.now)
        [booked] = await rows(host, Appointment, call_id=case.data.call_id, status="booked")
        assert booked.session_id == session_id
        assert booked.starts_at == NOW.replace(day=TODAY.day + 1, hour=8)  # 09:00 in London
        clock.advance(timedelta(hours=20))  # past the deadline: booked, so no breach
        await passes(host)
        assert escalations(capture, "appointment_deadline_breach") == []
        # Its time passes with no outcome recorded: escalated once, after the review window.
        clock.now = booked.ends_at + timedelta(minutes=119)
        await passes(host)
        clock.now = booked.ends_at + timedelta(minutes=120)
        await eventually(lambda: len(escalations(capture, "attendance_outcome_missing")) == 1)
        clock.advance(timedelta(days=1))
        await passes(host)
        await host.relay.run_once()
    assert len(escalations(capture, "appointment_deadline_at_risk")) == 3
    [missing] = escalations(capture, "attendance_outcome_missing")
    data = missing["data"]
    assert isinstance(data, dict)
    assert (data["target"], data["appointment_id"]) == ("practice_clinical_lead", str(booked.appointment_id))
