"""Composition root for metrics: database, context, the one all-events subscription, HTTP API and host."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from services.metrics.adapters.live_feed import LiveFeed
from services.metrics.adapters.tables import TABLES
from services.metrics.application.context import MetricsContext
from services.metrics.entrypoints.amqp import subscriptions
from services.metrics.entrypoints.http import build_router
from services.metrics.entrypoints.pages import build_pages
from services.metrics.settings import MetricsSettings
from shared.db import Database, utcnow
from shared.service import MESSAGING_TABLES, ServiceHost

SERVICE = "metrics"
MIGRATIONS = Path(__file__).with_name("migrations")


def build_database(settings: MetricsSettings) -> Database:
    return Database(settings.database_url, [*TABLES, *MESSAGING_TABLES])


def build_host(
    settings: MetricsSettings | None = None, *, clock: Callable[[], datetime] = utcnow
) -> ServiceHost:
    settings = settings or MetricsSettings()
    db = build_database(settings)
    feed = LiveFeed(max_streams=settings.live_feed_max_connections)
    ctx = MetricsContext(clock=clock, feed=feed)
    return ServiceHost(
        name=SERVICE,
        migrations=MIGRATIONS,
        settings=settings,
        db=db,
        subscriptions=subscriptions(ctx),
        routers=[build_router(db, ctx, feed), build_pages(db, ctx)],
        title="MHP metrics service",
        description="Monthly PCN returns, the trust view across PCNs and the live dashboard.",
    )
