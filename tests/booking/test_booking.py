"""Booking rules on a real RabbitMQ and a real database, through the service's own host."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from services.booking.adapters.tables import Appointment, AppointmentSlot, Slot, WaitlistEntry
from services.booking.adapters.unit_of_work import SqlBookingUnitOfWork
from services.booking.application.commands import CancelSession
from services.booking.application.handlers.rota import cancel_session
from shared.contracts.codes import (
    AppointmentType,
    AttendanceStatus,
    BookedBy,
    CancelledBy,
    Disposition,
    Modality,
    NextStep,
    SessionCancellationReason,
    SessionPeriod,
)
from shared.contracts.v1 import (
    AppointmentAttended,
    AppointmentAttendedData,
    AppointmentBooked,
    AppointmentBookedData,
    AppointmentCancelled,
    AppointmentCancelledData,
    AppointmentDna,
    AppointmentDnaData,
)
from shared.messaging.inbox import already_processed
from shared.service import ServiceHost
from tests.support.amqp import EventCapture, eventually, publish_event
from tests.support.identity import MHP, OTHER_LEAD, PCN_MANAGER, STAFF, Tokens

from .conftest import HOME, NOW, OTHER, PCN, TODAY, api, entry, load, triaged

pytestmark = pytest.mark.integration


async def appointments(host: ServiceHost, **where: Any) -> list[Appointment]:
    async with host.db.read() as session:
        query = select(Appointment).order_by(col(Appointment.starts_at))
        for name, value in where.items():
            query = query.where(getattr(Appointment, name) == value)
        return list((await session.exec(query)).all())


async def waiting(host: ServiceHost) -> list[WaitlistEntry]:
    async with host.db.read() as session:
        query = select(WaitlistEntry).where(WaitlistEntry.status == "waiting")
        return list((await session.exec(query.order_by(col(WaitlistEntry.respond_by)))).all())


async def wait_booked(host: ServiceHost, call_id: uuid.UUID) -> Appointment:
    async def booked() -> bool:
        return bool(await appointments(host, call_id=call_id, status="booked"))

    await eventually(booked, message="call was never booked")
    return (await appointments(host, call_id=call_id, status="booked"))[0]


async def test_books_earliest_slot_at_home_practice_before_deadline(
    booking: ServiceHost, amqp_url: str
) -> None:
    await load(
        booking, entry(OTHER), entry(HOME, period=SessionPeriod.PM), entry(HOME, day=TODAY + timedelta(1))
    )
    async with EventCapture(amqp_url, "appointment.booked.#") as capture:
        event = triaged()
        await publish_event(amqp_url, event)
        appointment = await wait_booked(booking, event.data.call_id)
        await capture.wait_for(1)
    # OTHER's morning is earlier, but the home practice's afternoon is inside the deadline: home first.
    assert appointment.practice_ods == HOME
    assert appointment.starts_at == NOW.replace(hour=12, minute=30)  # 13:30 BST
    booked = capture.of_type("appointment.booked")[0]
    assert booked["producer"] == f"{PCN}/booking"
    assert booked["causation_id"] == str(event.event_id)
    assert booked["data"]["booked_by"] == BookedBy.MHP_SERVICE.value


async def test_books_another_practice_of_the_pcn_when_home_has_nothing_in_time(
    booking: ServiceHost, amqp_url: str
) -> None:
    await load(booking, entry(OTHER), entry(HOME, day=TODAY + timedelta(days=7)))
    event = triaged(respond_by=NOW + timedelta(hours=24))
    await publish_event(amqp_url, event)
    appointment = await wait_booked(booking, event.data.call_id)
    assert appointment.practice_ods == OTHER
    assert appointment.home_practice_ods == HOME


async def test_honours_modality_and_a_complex_patient_takes_two_adjacent_slots(
    booking: ServiceHost, amqp_url: str
) -> None:
    await load(booking, entry(modalities=(Modality.TELEPHONE, Modality.FACE_TO_FACE), room="Room 1"))
    event = triaged(minutes=60, modality=Modality.FACE_TO_FACE)
    await publish_event(amqp_url, event)
    appointment = await wait_booked(booking, event.data.call_id)
    assert (appointment.minutes, appointment.modality) == (60, Modality.FACE_TO_FACE.value)
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=60)
    async with booking.db.read() as session:
        slots = (
            await session.exec(
                select(Slot)
                .join(AppointmentSlot, col(AppointmentSlot.slot_id) == Slot.slot_id)
                .where(AppointmentSlot.appointment_id == appointment.appointment_id)
                .order_by(col(Slot.seq))
            )
        ).all()
    assert len(slots) == 2
    assert slots[0].session_id == slots[1].session_id
    assert slots[1].seq == slots[0].seq + 1
    assert slots[0].modality == Modality.FACE_TO_FACE.value


async def test_waitlists_and_escalates_when_no_slot_inside_deadline(
    booking: ServiceHost, amqp_url: str
) -> None:
    await load(booking, entry(day=TODAY + timedelta(days=3)))
    async with EventCapture(amqp_url, "appointment.waitlisted.#", "case.escalated.#") as capture:
        event = triaged(respond_by=NOW + timedelta(hours=24))
        await publish_event(amqp_url, event)
        await capture.wait_for(2)
    assert await appointments(booking) == []
    [entry_] = await waiting(booking)
    assert entry_.call_id == event.data.call_id
    [escalated] = capture.of_type("case.escalated")
    assert escalated["data"]["reason"] == "appointment_deadline_at_risk"
    assert escalated["data"]["call_id"] == str(event.data.call_id)
    assert capture.of_type("appointment.waitlisted")[0]["data"]["call_id"] == str(event.data.call_id)


async def test_retriage_replaces_the_earlier_booking_rather_than_booking_twice(
    booking: ServiceHost, amqp_url: str
) -> None:
    await load(booking, entry(), entry(period=SessionPeriod.PM))
    first = triaged(respond_by=NOW + timedelta(hours=72))
    await publish_event(amqp_url, first)
    before = await wait_booked(booking, first.data.call_id)
    again = triaged(
        call_id=first.data.call_id,
        supersedes=first.event_id,
        minutes=60,
        correlation_id=first.correlation_id,
    )
    await publish_event(amqp_url, again)

    async def replaced() -> bool:
        rows = await appointments(booking, call_id=first.data.call_id, status="booked")
        return len(rows) == 1 and rows[0].appointment_id != before.appointment_id

    await eventually(replaced, message="re-triage did not replace the booking")
    rows = await appointments(booking, call_id=first.data.call_id)
    assert sorted(r.status for r in rows) == ["booked", "cancelled"]
    assert [r.minutes for r in rows if r.status == "booked"] == [60]
    # The re-sent original (no supersedes) does not book a second time.
    resent = triaged(call_id=first.data.call_id, correlation_id=first.correlation_id)
    await publish_event(amqp_url, resent)
    await eventually(lambda: _processed(booking, resent.event_id), message="re-sent decision not processed")
    assert len(await appointments(booking, call_id=first.data.call_id, status="booked")) == 1


async def _processed(host: ServiceHost, event_id: uuid.UUID, queue: str = "booking.on_call_triaged") -> bool:
    async with host.db.read() as session:
        return await already_processed(session, queue, event_id)


async def test_freed_slot_goes_to_the_waitlist_earliest_deadline_first(
    booking: ServiceHost, amqp_url: str
) -> None:
    # One clinical slot only: a session whose other five slots are already taken by direct bookings.
    [session_id] = await load(booking, entry())
    first = triaged()
    await publish_event(amqp_url, first)
    await wait_booked(booking, first.data.call_id)
    async with booking.db.transaction() as session:
        await session.exec(
            update(Slot)
            .where(col(Slot.session_id) == session_id, col(Slot.status) == "free")
            .values(status="cancelled")
        )
    later = triaged(respond_by=NOW + timedelta(hours=70))
    sooner = triaged(respond_by=NOW + timedelta(hours=30))
    await publish_event(amqp_url, later)
    await publish_event(amqp_url, sooner)
    await eventually(lambda: _count_waiting(booking, 2), message="both should wait")
    held = (await appointments(booking, call_id=first.data.call_id))[0]
    await publish_event(
        amqp_url,
        AppointmentCancelled.create(
            AppointmentCancelledData(
                appointment_id=held.appointment_id, cancelled_by=CancelledBy.PATIENT, late=True
            ),
            producer=f"{HOME}/clinical-system",
            pcn_code=PCN,
            practice_ods=HOME,
            correlation_id=first.correlation_id,
        ),
    )
    rebooked = await wait_booked(booking, sooner.data.call_id)
    assert rebooked.starts_at == held.starts_at
    assert [e.call_id for e in await waiting(booking)] == [later.data.call_id]
    cancelled = (await appointments(booking, appointment_id=held.appointment_id))[0]
    assert (cancelled.status, cancelled.attendance, cancelled.cancelled_late) == (
        "cancelled",
        AttendanceStatus.CANCELLED_BY_PATIENT.value,
        True,
    )


async def _count_waiting(host: ServiceHost, n: int) -> bool:
    return len(await waiting(host)) == n


async def test_cancelled_session_rebooks_or_waitlists_and_escalates(
    booking: ServiceHost, amqp_url: str
) -> None:
    [morning, _] = await load(booking, entry(), entry(day=TODAY + timedelta(days=1)))
    urgent = triaged(respond_by=NOW + timedelta(hours=6))
    routine = triaged(respond_by=NOW + timedelta(hours=72))
    for event in (urgent, routine):
        await publish_event(amqp_url, event)
        await wait_booked(booking, event.data.call_id)
    async with EventCapture(amqp_url, "#") as capture:
        async with SqlBookingUnitOfWork.begin(booking.db) as uow:
            done = await cancel_session(
                CancelSession(morning, SessionCancellationReason.CLINICIAN_SICKNESS, "MHP off sick"),
                uow,
                booking_ctx(),
            )
        outcomes = done.outcomes

        def caused_by_cancellation() -> list[str]:
            # Earlier bookings' events may still be on their way: keep the cancellation's own.
            cancelled = [
                m for m in capture.of_type("session.cancelled") if m["data"]["session_id"] == str(morning)
            ]
            if not cancelled:
                return []
            cause = cancelled[0]["event_id"]
            followers = [
                m["event_type"]
                for m in map(lambda r: r.json(), capture.messages)
                if m["causation_id"] == cause
            ]
            return sorted(["session.cancelled", *followers])

        await eventually(lambda: len(caused_by_cancellation()) == 6, message="cancellation events missing")
    kinds = sorted(type(o).__name__ for o in outcomes)
    assert kinds == ["Appointment", "WaitlistEntry"]
    moved = await wait_booked(booking, routine.data.call_id)
    assert moved.starts_at.date() == TODAY + timedelta(days=1)
    assert [e.call_id for e in await waiting(booking)] == [urgent.data.call_id]
    assert caused_by_cancellation() == sorted(
        [
            "session.cancelled",
            "appointment.cancelled",
            "appointment.cancelled",
            "appointment.booked",
            "appointment.waitlisted",
            "case.escalated",
        ]
    )


def booking_ctx() -> Any:
    from services.booking.application.context import BookingContext

    return BookingContext(clock=lambda: NOW)


async def test_database_makes_a_second_live_appointment_on_one_slot_impossible(booking: ServiceHost) -> None:
    await load(booking, entry())
    async with booking.db.read() as session:
        slot = (await session.exec(select(Slot).order_by(col(Slot.starts_at)))).first()
    assert slot is not None
    ids = [uuid.uuid4(), uuid.uuid4()]
    async with booking.db.transaction() as session:
        for appointment_id in ids:
            session.add(_bare_appointment(appointment_id, slot))
        session.add(AppointmentSlot(appointment_id=ids[0], slot_id=slot.slot_id))
    with pytest.raises(IntegrityError):
        async with booking.db.transaction() as session:
            session.add(AppointmentSlot(appointment_id=ids[1], slot_id=slot.slot_id))
    # A cancelled (no longer live) claim does not block the slot.
    async with booking.db.transaction() as session:
        claim = (await session.exec(select(AppointmentSlot))).one()
        claim.live = False
        session.add(claim)
        await session.flush()
        session.add(AppointmentSlot(appointment_id=ids[1], slot_id=slot.slot_id))


def _bare_appointment(appointment_id: uuid.UUID, slot: Slot) -> Appointment:
    return Appointment(
        appointment_id=appointment_id,
        correlation_id=uuid.uuid4(),
        pcn_code=PCN,
        practice_ods=HOME,
        home_practice_ods=HOME,
        session_id=slot.session_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        minutes=30,
        modality="telephone",
        appointment_type="review",
        booked_by="practice_direct",
        created_at=NOW,
    )


def _direct(start: Any, *, appointment_id: uuid.UUID | None = None) -> AppointmentBooked:
    return AppointmentBooked.create(
        AppointmentBookedData(
            appointment_id=appointment_id or uuid.uuid4(),
            starts_at=start,
            minutes=30,
            modality=Modality.TELEPHONE,
            appointment_type=AppointmentType.INITIAL_ASSESSMENT,
            booked_by=BookedBy.PRACTICE_DIRECT,
        ),
        producer=f"{HOME}/clinical-system",
        pcn_code=PCN,
        practice_ods=HOME,
        correlation_id=uuid.uuid4(),
    )


async def test_an_outcome_that_overtakes_its_direct_booking_is_retried_and_then_applied(
    booking: ServiceHost, amqp_url: str
) -> None:
    await load(booking, entry())
    async with booking.db.read() as session:
        start = (await session.exec(select(Slot.starts_at).order_by(col(Slot.starts_at)))).first()
    direct = _direct(start)
    dna = direct.caused(
        AppointmentDna,
        AppointmentDnaData(
            appointment_id=direct.data.appointment_id, attendance=AttendanceStatus.DID_NOT_ATTEND
        ),
        producer=f"{HOME}/clinical-system",
    )
    await publish_event(amqp_url, dna)  # overtakes the booking it refers to
    await publish_event(amqp_url, direct)

    async def recorded_as_dna() -> bool:
        return [a.status for a in await appointments(booking)] == ["dna"]

    await eventually(recorded_as_dna, timeout=60, message="the DNA was lost instead of retried")


async def test_direct_bookings_over_the_weekly_cap_are_refused_with_the_reason(
    booking: ServiceHost, amqp_url: str, tokens: Tokens
) -> None:
    await load(booking, entry())
    async with booking.db.read() as session:
        starts = [s.starts_at for s in (await session.exec(select(Slot).order_by(col(Slot.starts_at)))).all()]
    # The fixture's cap is 2 a week.
    events = [_direct(starts[i]) for i in range(3)]
    async with EventCapture(amqp_url, "appointment.cancelled.#") as capture:
        for event in events:
            await publish_event(amqp_url, event)
        await capture.wait_for(1)
    booked = await appointments(booking, booked_by=BookedBy.PRACTICE_DIRECT.value, status="booked")
    [refusal] = capture.of_type("appointment.cancelled")
    # Two fit under the cap of 2; the one refused is exactly the one not booked.
    booked_ids = {str(a.appointment_id) for a in booked}
    assert len(booked_ids) == 2
    assert booked_ids | {refusal["data"]["appointment_id"]} == {str(e.data.appointment_id) for e in events}
    assert (refusal["data"]["cancelled_by"], refusal["data"]["late"]) == ("provider", False)
    assert refusal["producer"] == f"{PCN}/booking"
    async with api(booking, tokens.user(STAFF)) as client, api(booking, tokens.user(PCN_MANAGER)) as manager:
        reasons = (await client.get("/direct-booking-refusals", params={"practice": HOME})).json()
        assert "weekly direct-booking cap reached: 2 of 2" in reasons[0]["reason"]
        response = await client.post(
            "/appointments",
            json={
                "pcn_code": PCN,
                "practice_ods": HOME,
                "starts_at": starts[3].isoformat(),
                "modality": "telephone",
            },
        )
        assert response.status_code == 409
        assert "weekly direct-booking cap reached" in response.json()["detail"]
        raised = await manager.put(
            f"/practices/{HOME}/direct-booking-cap", json={"weekly_direct_bookings": 5}
        )
        assert raised.status_code == 200
        response = await client.post(
            "/appointments",
            json={
                "pcn_code": PCN,
                "practice_ods": HOME,
                "starts_at": starts[3].isoformat(),
                "modality": "telephone",
            },
        )
        assert response.status_code == 201
        taken = await client.post(
            "/appointments",
            json={
                "pcn_code": PCN,
                "practice_ods": HOME,
                "starts_at": starts[3].isoformat(),
                "modality": "telephone",
            },
        )
        assert taken.status_code == 409
        assert "not free" in taken.json()["detail"]


async def test_attendance_codes_are_recorded_and_overdue_bookings_are_flagged_not_guessed(
    amqp_url: str, booking_db_url: str, tokens: Tokens
) -> None:
    from services.booking.bootstrap import build_host

    from .conftest import booking_settings

    clock = {"now": NOW}
    host = build_host(booking_settings(amqp_url, booking_db_url), clock=lambda: clock["now"])
    await host.start()
    try:
        await load(host, entry())
        calls = [triaged() for _ in range(3)]
        for event in calls:
            await publish_event(amqp_url, event)
        attended, dna, unknown = [await wait_booked(host, e.data.call_id) for e in calls]
        await publish_event(
            amqp_url,
            AppointmentAttended.create(
                AppointmentAttendedData(
                    appointment_id=attended.appointment_id,
                    attendance=AttendanceStatus.ARRIVED_LATE_SEEN,
                    next_step=NextStep.DISCHARGE,
                ),
                producer=f"{HOME}/clinical-system",
                pcn_code=PCN,
                practice_ods=HOME,
                correlation_id=attended.correlation_id,
            ),
        )
        await publish_event(
            amqp_url,
            AppointmentDna.create(
                AppointmentDnaData(
                    appointment_id=dna.appointment_id, attendance=AttendanceStatus.DID_NOT_ATTEND
                ),
                producer=f"{HOME}/clinical-system",
                pcn_code=PCN,
                practice_ods=HOME,
                correlation_id=dna.correlation_id,
            ),
        )

        async def recorded() -> bool:
            rows = {a.appointment_id: a for a in await appointments(host)}
            return (
                rows[attended.appointment_id].status == "attended"
                and rows[dna.appointment_id].status == "dna"
            )

        await eventually(recorded, message="attendance not recorded")
        rows = {a.appointment_id: a for a in await appointments(host)}
        assert rows[attended.appointment_id].attendance == "arrived_late_seen"
        assert rows[dna.appointment_id].attendance == "did_not_attend"
        async with api(host, tokens.user(MHP)) as client:
            assert (await client.get("/attendance-review", params={"pcn": PCN})).json() == []
            clock["now"] = unknown.ends_at + timedelta(hours=3)
            flagged = (await client.get("/attendance-review", params={"pcn": PCN})).json()
        assert [f["appointment_id"] for f in flagged] == [str(unknown.appointment_id)]
        assert flagged[0]["status"] == "booked"  # flagged for review, never marked DNA on a guess
    finally:
        await host.stop()


async def test_follow_up_goes_into_the_next_session_at_the_same_practice_and_prescriptions_are_counted(
    booking: ServiceHost, amqp_url: str, tokens: Tokens
) -> None:
    # The next session at HOME is two days on; OTHER's session tomorrow must not be used.
    await load(
        booking, entry(), entry(OTHER, day=TODAY + timedelta(days=1)), entry(day=TODAY + timedelta(days=2))
    )
    calls = [triaged(), triaged()]
    for event in calls:
        await publish_event(amqp_url, event)
    first, second = [await wait_booked(booking, e.data.call_id) for e in calls]
    for appointment, step in ((first, NextStep.FOLLOW_UP), (second, NextStep.PRESCRIPTION)):
        await publish_event(
            amqp_url,
            AppointmentAttended.create(
                AppointmentAttendedData(
                    appointment_id=appointment.appointment_id,
                    attendance=AttendanceStatus.ATTENDED,
                    next_step=step,
                ),
                producer=f"{HOME}/clinical-system",
                pcn_code=PCN,
                practice_ods=HOME,
                correlation_id=appointment.correlation_id,
            ),
        )

    async def both_booked() -> bool:
        kinds = {a.appointment_type for a in await appointments(booking, status="booked")}
        return {AppointmentType.SECOND_ASSESSMENT.value, AppointmentType.PRESCRIPTION.value} <= kinds

    await eventually(both_booked, message="follow-up and prescription not booked")
    follow_up = (await appointments(booking, appointment_type=AppointmentType.SECOND_ASSESSMENT.value))[0]
    assert follow_up.practice_ods == HOME
    assert follow_up.starts_at.date() == TODAY + timedelta(days=2)
    assert follow_up.correlation_id == first.correlation_id
    async with api(booking, tokens.user(PCN_MANAGER)) as client:
        count = (await client.get("/counts/prescription-slots", params={"pcn": PCN})).json()
    assert count["count"] == 1
    async with api(booking, tokens.user(OTHER_LEAD)) as client:
        # Another practice's clinical lead counts its own patients' prescriptions only (none here).
        theirs = (await client.get("/counts/prescription-slots", params={"pcn": PCN})).json()
    assert (theirs["practice_ods"], theirs["count"]) == (OTHER, 0)


async def test_non_appointment_retriage_cancels_the_booking_and_own_events_are_ignored(
    booking: ServiceHost, amqp_url: str
) -> None:
    await load(booking, entry())
    first = triaged()
    await publish_event(amqp_url, first)
    held = await wait_booked(booking, first.data.call_id)
    signpost = triaged(
        call_id=first.data.call_id,
        supersedes=first.event_id,
        disposition=Disposition.ADVICE,
        correlation_id=first.correlation_id,
    )
    await publish_event(amqp_url, signpost)

    async def cancelled() -> bool:
        return (await appointments(booking, appointment_id=held.appointment_id))[0].status == "cancelled"

    await eventually(cancelled, message="earlier booking not cancelled")
    # booking's own appointment.booked coming back from the exchange is not a direct booking.
    own = _direct(held.starts_at)
    own = own.model_copy(update={"producer": f"{PCN}/booking"})
    await publish_event(amqp_url, own)
    await eventually(
        lambda: _processed(booking, own.event_id, "booking.on_practice_appointment_event"),
        message="own event not consumed",
    )
    assert await appointments(booking, appointment_id=own.data.appointment_id) == []


async def test_next_session_follow_up_keeps_london_wall_clock_across_the_bst_changes(
    amqp_url: str, booking_db_url: str
) -> None:
    from datetime import UTC, date, datetime

    from services.booking.bootstrap import build_host

    from .conftest import booking_settings

    now = datetime(2026, 3, 27, 7, 0, tzinfo=UTC)
    host = build_host(booking_settings(amqp_url, booking_db_url), clock=lambda: now)
    await host.start()
    try:
        # Spring: Friday in GMT, then Monday in BST. Autumn: Friday in BST, then Monday in GMT.
        await load(
            host,
            entry(HOME, day=date(2026, 3, 27)),
            entry(HOME, day=date(2026, 3, 30)),
            entry(OTHER, day=date(2026, 10, 23)),
            entry(OTHER, day=date(2026, 10, 26)),
            now=now,
        )
        spring = triaged(practice=HOME, respond_by=datetime(2026, 3, 28, tzinfo=UTC))
        autumn = triaged(practice=OTHER, respond_by=datetime(2026, 10, 24, tzinfo=UTC))
        firsts = []
        for event in (spring, autumn):
            await publish_event(amqp_url, event)
            firsts.append(await wait_booked(host, event.data.call_id))
        assert [a.starts_at for a in firsts] == [
            datetime(2026, 3, 27, 9, 0, tzinfo=UTC),  # 09:00 GMT
            datetime(2026, 10, 23, 8, 0, tzinfo=UTC),  # 09:00 BST
        ]
        for appointment in firsts:
            await publish_event(
                amqp_url,
                AppointmentAttended.create(
                    AppointmentAttendedData(
                        appointment_id=appointment.appointment_id,
                        attendance=AttendanceStatus.ATTENDED,
                        next_step=NextStep.FOLLOW_UP,
                    ),
                    producer=f"{appointment.home_practice_ods}/clinical-system",
                    pcn_code=PCN,
                    practice_ods=appointment.home_practice_ods,
                    correlation_id=appointment.correlation_id,
                ),
            )

        async def follow_ups() -> list[Appointment]:
            return await appointments(host, appointment_type=AppointmentType.SECOND_ASSESSMENT.value)

        async def both() -> bool:
            return len(await follow_ups()) == 2

        await eventually(both, message="follow-ups not booked")
        assert [a.starts_at for a in await follow_ups()] == [
            datetime(2026, 3, 30, 8, 0, tzinfo=UTC),  # 09:00 BST
            datetime(2026, 10, 26, 9, 0, tzinfo=UTC),  # 09:00 GMT
        ]
    finally:
        await host.stop()
