"""Composition root for booking: settings -> context, database, subscriptions, HTTP and FHIR routers, host."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from services.booking.adapters.tables import TABLES
from services.booking.application.context import SERVICE, BookingContext
from services.booking.domain.urgency import UrgentCapacityPolicy
from services.booking.entrypoints.amqp import subscriptions
from services.booking.entrypoints.fhir import build_fhir_router
from services.booking.entrypoints.http import build_router
from services.booking.entrypoints.http_appointments import build_appointments_router
from services.booking.entrypoints.watchdog import case_watchdog
from services.booking.settings import BookingSettings
from shared.db import Database, utcnow
from shared.service import MESSAGING_TABLES, ServiceHost
from shared.watchdog import Watchdog

__all__ = ["MIGRATIONS", "SERVICE", "BookingHost", "build_context", "build_database", "build_host"]

MIGRATIONS = Path(__file__).with_name("migrations")


def build_context(settings: BookingSettings, clock: Callable[[], datetime] = utcnow) -> BookingContext:
    return BookingContext(
        clock=clock,
        direct_bookings_per_week=settings.direct_bookings_per_week,
        attendance_review_after=timedelta(minutes=settings.attendance_review_after_minutes),
        rebook_window=timedelta(days=settings.rebook_window_days),
        case_watch=settings.case_watch_policy(),
        urgent_capacity=UrgentCapacityPolicy(
            share=settings.urgent_share,
            hold=timedelta(hours=settings.urgent_hold_hours),
            demand_look_ahead=timedelta(hours=settings.urgent_demand_look_ahead_hours),
            demand_rate_days=settings.urgent_demand_rate_days,
        ),
    )


def build_database(settings: BookingSettings) -> Database:
    return Database(settings.database_url, [*TABLES, *MESSAGING_TABLES])


class BookingHost(ServiceHost):
    """The booking service host; exposes its case watchdog to operators and tests."""

    def __init__(self, *, watchdog: Watchdog, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.watchdog = watchdog


def build_host(
    settings: BookingSettings | None = None, *, clock: Callable[[], datetime] = utcnow
) -> BookingHost:
    settings = settings or BookingSettings()
    db = build_database(settings)
    ctx = build_context(settings, clock)
    watchdog = case_watchdog(db, ctx, interval=settings.watchdog_interval_seconds)
    return BookingHost(
        watchdog=watchdog,
        name=SERVICE,
        migrations=MIGRATIONS,
        settings=settings,
        db=db,
        subscriptions=subscriptions(ctx),
        routers=[build_router(db, ctx), build_appointments_router(db, ctx), build_fhir_router(db, ctx)],
        background=[("case-watchdog", watchdog.run)],
        description="MHP rota, risk-driven booking, direct bookings, attendance and the FHIR practice API.",
    )
