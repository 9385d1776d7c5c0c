"""Two booking-service OS processes on one database consume one queue: no slot is ever booked twice."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import col, select

from services.booking.adapters.tables import Appointment, AppointmentSlot, WaitlistEntry
from services.booking.adapters.unit_of_work import SqlBookingUnitOfWork
from services.booking.application.commands import LoadRota
from services.booking.application.context import BookingContext
from services.booking.application.handlers.rota import load_rota
from services.booking.bootstrap import MIGRATIONS, build_database
from services.booking.settings import BookingSettings
from shared.contracts.codes import Modality, SessionPeriod
from shared.migrations import prepare_schema
from shared.working_time import LONDON
from tests.support.amqp import EventCapture, eventually, publish_event
from tests.support.http import free_port

from .conftest import HOME, OTHER, entry, triaged

pytestmark = pytest.mark.integration

CALLS = 40
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def processes(amqp_url: str, booking_db_url: str, tmp_path: Path) -> Iterator[list[str]]:
    started: list[tuple[subprocess.Popen[bytes], Any]] = []
    urls = []
    for n in range(2):
        port = free_port()
        env = {
            **os.environ,
            "BOOKING_RABBITMQ_URL": amqp_url,
            "BOOKING_DATABASE_URL": booking_db_url,
            "BOOKING_HTTP_PORT": str(port),
            "BOOKING_RELAY_POLL_SECONDS": "0.2",
            "BOOKING_LOG_LEVEL": "WARNING",
        }
        log = (tmp_path / f"booking-{n}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.booking"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append((proc, log))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        yield urls
    finally:
        for proc, log in started:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


async def _both_ready(urls: list[str]) -> bool:
    async with httpx.AsyncClient(timeout=5) as client:
        for url in urls:
            try:
                response = await client.get(f"{url}/health/ready")
            except httpx.HTTPError:
                return False
            if response.status_code != 200:
                return False
            # Two consumers on the queue: both processes are competing for the same messages.
            if response.json()["queues"].get("booking.on_call_triaged") != 2:
                return False
    return True


async def test_two_processes_never_double_book_and_every_case_is_booked_or_waitlisted_and_escalated(
    amqp_url: str, booking_db_url: str, processes: list[str]
) -> None:
    # A rota in the real future (the processes use the real clock): three sessions, 18 clinical slots.
    tomorrow = datetime.now(UTC).astimezone(LONDON).date() + timedelta(days=1)
    db = build_database(BookingSettings(database_url=booking_db_url))
    await prepare_schema(db, MIGRATIONS)
    rota = [
        entry(HOME, day=tomorrow, modalities=(Modality.TELEPHONE, Modality.VIDEO)),
        entry(HOME, day=tomorrow, period=SessionPeriod.PM),
        entry(OTHER, day=tomorrow),
    ]
    async with SqlBookingUnitOfWork.begin(db) as uow:
        await load_rota(LoadRota(tuple(e.plan() for e in rota)), uow, BookingContext())
    await eventually(lambda: _both_ready(processes), timeout=60, message="booking processes not ready")

    deadline = datetime.combine(tomorrow + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    events = [
        triaged(
            respond_by=deadline,
            minutes=60 if i % 5 == 0 else 30,
            modality=Modality.TELEPHONE if i % 3 else None,
        )
        for i in range(CALLS)
    ]
    async with EventCapture(amqp_url, "case.escalated.#", "appointment.waitlisted.#") as capture:
        await asyncio.gather(*(publish_event(amqp_url, e) for e in events))

        async def all_settled() -> bool:
            async with db.read() as session:
                booked = (
                    await session.exec(
                        select(func.count()).select_from(Appointment).where(Appointment.status == "booked")
                    )
                ).one()
                waiting = (await session.exec(select(func.count()).select_from(WaitlistEntry))).one()
            return booked + waiting == CALLS

        await eventually(all_settled, timeout=90, message="not every case was booked or waitlisted")

        async with db.read() as session:
            double = (
                await session.exec(
                    select(AppointmentSlot.slot_id)
                    .where(col(AppointmentSlot.live))
                    .group_by(col(AppointmentSlot.slot_id))
                    .having(func.count() > 1)
                )
            ).all()
            booked_calls = set(
                (await session.exec(select(Appointment.call_id).where(Appointment.status == "booked"))).all()
            )
            waiting_calls = set((await session.exec(select(WaitlistEntry.call_id))).all())
            overlapping = (
                await session.exec(
                    select(func.count()).select_from(AppointmentSlot).where(col(AppointmentSlot.live))
                )
            ).one()
        n_waiting = len(waiting_calls)
        await eventually(
            lambda: len(capture.of_type("case.escalated")) == n_waiting,
            timeout=30,
            message="each waitlisted case must be escalated",
        )
    await db.dispose()

    assert double == []
    assert booked_calls | waiting_calls == {e.data.call_id for e in events}
    assert booked_calls.isdisjoint(waiting_calls)
    assert 0 < n_waiting < CALLS  # the slots ran out: there was real competition
    # 18 clinical slots, every one claimed once at most.
    assert overlapping <= 18
    escalated = {m["data"]["call_id"] for m in capture.of_type("case.escalated")}
    assert escalated == {str(c) for c in waiting_calls}
    assert all(
        m["data"]["reason"] == "appointment_deadline_at_risk" for m in capture.of_type("case.escalated")
    )
