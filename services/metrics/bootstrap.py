"""Composition root for metrics: database, the one all-events subscription, HTTP API and host."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from services.metrics.api import build_router
from services.metrics.handlers import MetricsContext, make_handler
from services.metrics.models import TABLES
from services.metrics.settings import MetricsSettings
from shared.contracts.v1 import ALL_V1
from shared.db import Database, utcnow
from shared.messaging.consumer import Subscription
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
    ctx = MetricsContext(clock=clock)
    return ServiceHost(
        name=SERVICE,
        migrations=MIGRATIONS,
        settings=settings,
        db=db,
        # One queue bound to every v1 event: projections see each event once, in one inbox.
        subscriptions=[Subscription("on_event", ALL_V1, make_handler(ctx))],
        routers=[build_router(db, ctx)],
        title="MHP metrics service",
        description="Monthly PCN returns, the trust view across PCNs and the live dashboard.",
    )
