"""Composition root for booking: builds the database, subscriptions, HTTP API and host from settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.booking.api import build_router
from services.booking.fhir import build_fhir_router
from services.booking.handlers import SERVICE, BookingContext, on_call_triaged, on_practice_appointment_event
from services.booking.models import TABLES
from services.booking.settings import BookingSettings
from shared.contracts.v1 import (
    AppointmentAttended,
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentDna,
    CallTriaged,
)
from shared.db import Database, utcnow
from shared.messaging.consumer import Subscription
from shared.service import MESSAGING_TABLES, ServiceHost

__all__ = ["MIGRATIONS", "SERVICE", "build_context", "build_database", "build_host"]

MIGRATIONS = Path(__file__).with_name("migrations")


def build_context(settings: BookingSettings, clock: Callable[[], datetime] = utcnow) -> BookingContext:
    return BookingContext(
        clock=clock,
        direct_bookings_per_week=settings.direct_bookings_per_week,
        attendance_review_after=timedelta(minutes=settings.attendance_review_after_minutes),
        rebook_window=timedelta(days=settings.rebook_window_days),
    )


def build_database(settings: BookingSettings) -> Database:
    return Database(settings.database_url, [*TABLES, *MESSAGING_TABLES])


def build_host(
    settings: BookingSettings | None = None, *, clock: Callable[[], datetime] = utcnow
) -> ServiceHost:
    settings = settings or BookingSettings()
    db = build_database(settings)
    ctx = build_context(settings, clock)

    async def triaged(session: AsyncSession, event: Any) -> None:
        await on_call_triaged(session, event, ctx)

    async def practice_event(session: AsyncSession, event: Any) -> None:
        await on_practice_appointment_event(session, event, ctx)

    return ServiceHost(
        name=SERVICE,
        migrations=MIGRATIONS,
        settings=settings,
        db=db,
        subscriptions=[
            Subscription("on_call_triaged", (CallTriaged,), triaged),
            # One queue for a practice's appointment events keeps them mostly in order; an outcome that
            # overtakes its booking (a redelivery) is retried until the booking is known.
            Subscription(
                "on_practice_appointment_event",
                (AppointmentBooked, AppointmentAttended, AppointmentDna, AppointmentCancelled),
                practice_event,
            ),
        ],
        routers=[build_router(db, ctx), build_fhir_router(db, ctx)],
        description="MHP rota, risk-driven booking, direct bookings, attendance and the FHIR practice API.",
    )
