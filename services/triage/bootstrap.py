"""Composition root for triage: settings -> context, database, subscriptions, HTTP API, watchdog and host."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from services.triage.adapters.tables import TABLES
from services.triage.application.context import TriageContext
from services.triage.entrypoints.amqp import subscriptions
from services.triage.entrypoints.http import build_router
from services.triage.entrypoints.watchdog import deadline_watchdog
from services.triage.settings import TriageSettings
from shared.db import Database, utcnow
from shared.service import MESSAGING_TABLES, ServiceHost
from shared.watchdog import Watchdog

SERVICE = "triage"
MIGRATIONS = Path(__file__).with_name("migrations")


class TriageHost(ServiceHost):
    """The triage service host; exposes its deadline watchdog to operators and tests."""

    def __init__(self, *, watchdog: Watchdog, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.watchdog = watchdog


def build_host(
    settings: TriageSettings | None = None, *, clock: Callable[[], datetime] = utcnow
) -> TriageHost:
    settings = settings or TriageSettings()
    db = Database(settings.database_url, [*TABLES, *MESSAGING_TABLES])
    ctx = TriageContext(
        producer=f"{settings.organisation_code}/{SERVICE}",
        clock=clock,
        callbacks=settings.callback_policy(),
        red_flags=settings.red_flags(),
        out_of_hours=settings.out_of_hours_policy(),
    )
    watchdog = deadline_watchdog(db, ctx, interval=settings.watchdog_interval_seconds)
    return TriageHost(
        watchdog=watchdog,
        name=SERVICE,
        migrations=MIGRATIONS,
        settings=settings,
        db=db,
        subscriptions=subscriptions(ctx),
        routers=[build_router(db, ctx)],
        background=[("deadline-watchdog", watchdog.run)],
        description="MHP telephone triage: worklist, UK MHTS decisions and callback-deadline escalation.",
    )
