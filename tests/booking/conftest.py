"""Booking test fixtures: a started booking host on a real broker and database, with a fixed clock."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from services.booking.adapters.unit_of_work import SqlBookingUnitOfWork
from services.booking.application.commands import LoadRota
from services.booking.application.context import BookingContext
from services.booking.application.handlers.rota import load_rota
from services.booking.bootstrap import build_host
from services.booking.entrypoints.rota_file import RotaEntry
from services.booking.settings import BookingSettings
from shared.contracts.codes import Disposition, Modality, SessionPeriod, TriageCode
from shared.contracts.v1 import CallTriaged, CallTriagedData
from shared.service import ServiceHost

PCN = "U00123"
HOME = "Y01234"
OTHER = "Y01235"  # another practice of the same PCN (the demo directory's)
# A Monday in BST: sessions that day run 08:00-11:30 and 12:30-16:00 UTC.
TODAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)


def api(host: ServiceHost, headers: dict[str, str]) -> AsyncClient:
    """The service's own app (authenticating, with its error handlers) acting as one principal.

    No lifespan: the test's fixture has started the host already.
    """
    return AsyncClient(
        transport=ASGITransport(app=host.http_app()), base_url="http://booking", headers=headers
    )


def booking_settings(amqp_url: str, database_url: str, **overrides: Any) -> BookingSettings:
    return BookingSettings(
        rabbitmq_url=amqp_url, database_url=database_url, relay_poll_seconds=0.2, **overrides
    )


@pytest.fixture
def booking_db_url(make_database_url: Callable[[str], str]) -> str:
    return make_database_url("booking")


@pytest.fixture
async def booking(amqp_url: str, booking_db_url: str) -> AsyncIterator[ServiceHost]:
    host = build_host(
        booking_settings(amqp_url, booking_db_url, direct_bookings_per_week=2), clock=lambda: NOW
    )
    await host.start()
    yield host
    await host.stop()


def entry(
    practice: str = HOME,
    day: date = TODAY,
    period: SessionPeriod = SessionPeriod.AM,
    modalities: tuple[Modality, ...] = (Modality.TELEPHONE,),
    room: str | None = None,
) -> RotaEntry:
    return RotaEntry(
        pcn_code=PCN,
        practice_ods=practice,
        session_date=day,
        period=period,
        clinician="mhp-1",
        modalities=modalities,
        room=room,
    )


async def load(host: ServiceHost, *entries: RotaEntry, now: datetime = NOW) -> list[uuid.UUID]:
    """Put sessions on the rota through booking's own command, as of `now` (the host's clock)."""
    async with SqlBookingUnitOfWork.begin(host.db) as uow:
        command = LoadRota(tuple(e.plan() for e in entries))
        loaded = await load_rota(command, uow, BookingContext(clock=lambda: now))
    return loaded.session_ids


def triaged(
    *,
    practice: str = HOME,
    respond_by: datetime = NOW + timedelta(hours=72),
    minutes: int = 30,
    modality: Modality | None = Modality.TELEPHONE,
    call_id: uuid.UUID | None = None,
    supersedes: uuid.UUID | None = None,
    disposition: Disposition = Disposition.APPOINTMENT,
    correlation_id: uuid.UUID | None = None,
) -> CallTriaged:
    appointment = disposition in (Disposition.APPOINTMENT, Disposition.URGENT_APPOINTMENT)
    return CallTriaged.create(
        CallTriagedData(
            call_id=call_id or uuid.uuid4(),
            triage_code=TriageCode.D if appointment else TriageCode.G,
            disposition=disposition,
            respond_by=respond_by if appointment else None,
            modality=modality if appointment else None,
            appointment_minutes=minutes if appointment else None,
            supersedes=supersedes,
            clinician="mhp-1",
        ),
        producer="RMH/triage",
        pcn_code=PCN,
        practice_ods=practice,
        correlation_id=correlation_id or uuid.uuid4(),
    )
