"""Unit fixtures: an in-memory unit of work, a clock, and helpers that put sessions on the rota."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from services.booking.application.commands import BookFromTriage, LoadRota
from services.booking.application.context import BookingContext
from services.booking.application.handlers.rota import load_rota
from services.booking.domain.rota import SessionPlan
from shared.contracts.codes import Modality, SessionPeriod
from shared.contracts.v1 import CallTriaged
from tests.support.clock import FakeClock

from ..conftest import HOME, NOW, PCN, TODAY, triaged
from .fakes import FakeBookingUnitOfWork

AFTER = NOW + timedelta(days=30)
"""When the practice records an outcome in these tests: after every appointment they book has started."""


@pytest.fixture
def uow() -> FakeBookingUnitOfWork:
    return FakeBookingUnitOfWork()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def ctx(clock: FakeClock) -> BookingContext:
    return BookingContext(clock=clock, direct_bookings_per_week=2)


def plan(
    practice: str = HOME,
    day: date = TODAY,
    period: SessionPeriod = SessionPeriod.AM,
    modalities: tuple[Modality, ...] = (Modality.TELEPHONE,),
    room: str | None = None,
) -> SessionPlan:
    return SessionPlan(PCN, practice, day, period, "mhp-1", modalities, room)


async def schedule(uow: FakeBookingUnitOfWork, ctx: BookingContext, *plans: SessionPlan) -> list[uuid.UUID]:
    loaded = await load_rota(LoadRota(plans), uow, ctx)
    uow.events.clear()
    return loaded.session_ids


def book_from(event: CallTriaged) -> BookFromTriage:
    """The command the AMQP entry point makes of a call.triaged (see entrypoints/amqp.py)."""
    data = event.data
    return BookFromTriage(
        call_id=data.call_id,
        correlation_id=event.correlation_id,
        pcn_code=event.pcn_code,
        practice_ods=event.practice_ods,
        needs_appointment=data.appointment_minutes is not None,
        respond_by=data.respond_by,
        modality=data.modality,
        minutes=data.appointment_minutes,
        supersedes=data.supersedes,
        cause=event,
        decision_sequence=data.decision_sequence,
        triage_code=data.triage_code,
    )


def call(hours: float = 72, **kwargs: object) -> CallTriaged:
    return triaged(respond_by=NOW + timedelta(hours=hours), **kwargs)  # type: ignore[arg-type]
