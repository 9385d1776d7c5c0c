"""Booking by risk on the real database: held slots keep urgent capacity from routine cases until release.

No broker: the call.triaged consumer is called with booking's SQL unit of work and a fake clock, so the
event's triage code, the migrations' columns and the SQL search are all the real ones.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from benchmarks.booking_by_risk import before_and_after
from services.booking.adapters import mapping
from services.booking.adapters.slot_search import find_slots
from services.booking.adapters.unit_of_work import SqlBookingUnitOfWork
from services.booking.application.commands import LoadRota
from services.booking.application.context import BookingContext
from services.booking.application.handlers.rota import load_rota
from services.booking.application.unit_of_work import SlotFilter
from services.booking.bootstrap import MIGRATIONS, build_context, build_database
from services.booking.domain.allocation import HeldSlots, SlotQuery, first_fit
from services.booking.domain.appointment import Appointment
from services.booking.domain.urgency import Urgency
from services.booking.domain.waitlist import WaitlistEntry
from services.booking.entrypoints.amqp import on_call_triaged
from services.booking.entrypoints.rota_file import RotaEntry
from services.booking.settings import BookingSettings
from shared.contracts.codes import Disposition, Modality, SessionPeriod, TriageCode
from shared.contracts.v1 import CallTriaged, CallTriagedData
from shared.db import Database
from shared.migrations import prepare_schema
from tests.support.clock import FakeClock

from .conftest import HOME, NOW, OTHER, PCN, TODAY, entry

EVERY_SLOT = SlotFilter(pcn_code=PCN, status=None, limit=10_000)

TUESDAY_AM = NOW + timedelta(hours=25)  # Tuesday's morning session starts 08:00 UTC (BST)
HOLD = timedelta(hours=4)


@pytest.fixture
async def db(booking_db_url: str) -> AsyncIterator[Database]:
    database = build_database(BookingSettings(database_url=booking_db_url))
    await prepare_schema(database, MIGRATIONS)
    yield database
    await database.dispose()


def triaged_as(code: TriageCode, clock: FakeClock) -> CallTriaged:
    window = {TriageCode.C: timedelta(hours=24), TriageCode.E: timedelta(weeks=4)}[code]
    return CallTriaged.create(
        CallTriagedData(
            call_id=uuid.uuid4(),
            triage_code=code,
            disposition=Disposition.URGENT_APPOINTMENT if code is TriageCode.C else Disposition.APPOINTMENT,
            respond_by=clock.now + window,
            modality=Modality.TELEPHONE,
            appointment_minutes=30,
            clinician="mhp-1",
            decision_sequence=1,
        ),
        producer="RMH/triage",
        pcn_code=PCN,
        practice_ods=HOME,
        correlation_id=uuid.uuid4(),
    )


async def triage(db: Database, clock: FakeClock, code: TriageCode) -> Appointment | WaitlistEntry:
    ctx = build_context(
        BookingSettings(urgent_share=0.4, urgent_hold_hours=HOLD.total_seconds() / 3600), clock
    )
    event = triaged_as(code, clock)
    async with SqlBookingUnitOfWork.begin(db) as uow:
        await on_call_triaged(event, uow, ctx)
    async with SqlBookingUnitOfWork.reading(db) as uow:
        booked = await uow.appointments.live_initial_for_call(event.data.call_id)
        return booked or await uow.waitlist.waiting_for_call(event.data.call_id)  # type: ignore[return-value]


async def test_a_c_case_after_many_e_cases_finds_a_held_slot_next_day_which_is_released_later(
    db: Database,
) -> None:
    await load_tuesday(db)
    clock = FakeClock(NOW)
    routine = [await triage(db, clock, TriageCode.E) for _ in range(10)]
    booked = [r for r in routine if isinstance(r, Appointment)]
    assert len(booked) == 8  # 12 clinical slots on Tuesday, 2 of each session held
    assert all(isinstance(r, WaitlistEntry) and r.urgency is Urgency.ROUTINE for r in routine[8:])

    clock.advance(timedelta(hours=3))  # Monday 10:00: the C case's 24 hours reach Tuesday morning
    urgent = await triage(db, clock, TriageCode.C)
    assert isinstance(urgent, Appointment)
    assert (urgent.starts_at, urgent.urgency) == (TUESDAY_AM, Urgency.URGENT)

    clock.now = TUESDAY_AM - HOLD - timedelta(minutes=1)  # the other held slot is still held
    assert isinstance(await triage(db, clock, TriageCode.E), WaitlistEntry)
    clock.now = TUESDAY_AM - HOLD  # released to routine cases
    released = await triage(db, clock, TriageCode.E)
    assert isinstance(released, Appointment)
    assert released.starts_at == TUESDAY_AM + timedelta(minutes=30)


async def load_rota_of(db: Database, *entries: RotaEntry) -> None:
    async with SqlBookingUnitOfWork.begin(db) as uow:
        await load_rota(LoadRota(tuple(e.plan() for e in entries)), uow, BookingContext(clock=lambda: NOW))


async def load_tuesday(db: Database) -> None:
    tuesday = TODAY + timedelta(days=1)
    await load_rota_of(db, entry(day=tuesday), entry(day=tuesday, period=SessionPeriod.PM))


async def test_the_sql_search_and_first_fit_answer_the_same_with_held_slots(db: Database) -> None:
    rng = random.Random(13)
    days = [TODAY + timedelta(days=d) for d in range(4)]
    entries = [entry(p, day=d, period=s) for p in (HOME, OTHER) for d in days for s in SessionPeriod]
    await load_rota_of(db, *entries)
    async with SqlBookingUnitOfWork.begin(db) as uow:
        slots = await uow.slots.search(EVERY_SLOT)
        for slot in slots:
            if rng.random() < 0.45:
                await uow.slots.claim([slot.slot_id])
    async with SqlBookingUnitOfWork.reading(db) as uow:
        slots = await uow.slots.search(EVERY_SLOT)
        async with db.read() as session:
            for _ in range(120):
                now = NOW + timedelta(minutes=30 * rng.randint(0, 150))
                query = SlotQuery(
                    PCN,
                    rng.choice([HOME, OTHER, None]),
                    None,
                    rng.choice([30, 60]),
                    not_before=now,
                    starts_before=rng.choice([None, now + timedelta(hours=rng.randint(4, 80))]),
                    held=rng.choice(
                        [None, HeldSlots(rng.randint(1, 6), now + timedelta(hours=rng.randint(0, 30)))]
                    ),
                )
                rows = await find_slots(
                    session,
                    pcn_code=query.pcn_code,
                    practice_ods=query.practice_ods,
                    modality=query.modality,
                    minutes=query.minutes,
                    not_before=query.not_before,
                    starts_before=query.starts_before,
                    held=query.held,
                )
                by_sql = [mapping.slot_of(r) for r in rows or []]
                by_rule = first_fit(slots, query) or []
                # Two practices' sessions start together: either is the earliest fit, so compare starts.
                assert [s.starts_at for s in by_sql] == [s.starts_at for s in by_rule], query
                assert not by_sql or query.may_start(by_sql[0])
                assert all(query.may_take(s) for s in by_sql)


async def test_the_benchmark_shows_protection_books_more_c_and_d_cases_inside_their_deadlines() -> None:
    # A small skewed mix (few urgent cases among many routine ones) on a tight rota.
    mix = {TriageCode.C: 12, TriageCode.D: 18, TriageCode.E: 70}
    off, on = await before_and_after(100, days=4, capacity=0.7, seed=5, mix=mix)
    assert on.share_booked(TriageCode.C, TriageCode.D) > off.share_booked(TriageCode.C, TriageCode.D)
    assert on.e_in_first_three_days < off.e_in_first_three_days
    assert on.journeys == off.journeys
