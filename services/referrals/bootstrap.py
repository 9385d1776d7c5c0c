"""Composition root for referrals: directory, database, subscriptions, HTTP API, watchdog and host."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from services.referrals.adapters.tables import TABLES
from services.referrals.application.context import ReferralsContext
from services.referrals.entrypoints.amqp import subscriptions
from services.referrals.entrypoints.http import build_router
from services.referrals.entrypoints.http_escalations import build_escalations_router
from services.referrals.entrypoints.watchdog import referrals_watchdog
from services.referrals.settings import ReferralsSettings
from shared.db import Database, utcnow
from shared.service import MESSAGING_TABLES, ServiceHost
from shared.watchdog import Watchdog

SERVICE = "referrals"
MIGRATIONS = Path(__file__).with_name("migrations")


class ReferralsHost(ServiceHost):
    """The referrals service host; exposes its watchdog to operators and tests."""

    def __init__(self, *, watchdog: Watchdog, context: ReferralsContext, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.watchdog = watchdog
        self.context = context


def build_host(
    settings: ReferralsSettings | None = None, *, clock: Callable[[], datetime] = utcnow
) -> ReferralsHost:
    """Build the host; a bad directory file raises DirectoryError here, before anything starts."""
    settings = settings or ReferralsSettings()
    db = Database(settings.database_url, [*TABLES, *MESSAGING_TABLES])
    ctx = ReferralsContext(
        producer=f"{settings.organisation_code}/{SERVICE}",
        directory=settings.directory(),
        clock=clock,
        deadlines=settings.deadlines(),
        follow_up_policy=settings.follow_up_policy(),
        escalation_policy=settings.escalation_policy(),
    )
    watchdog = referrals_watchdog(db, ctx, interval=settings.watchdog_interval_seconds)
    return ReferralsHost(
        watchdog=watchdog,
        context=ctx,
        name=SERVICE,
        migrations=MIGRATIONS,
        settings=settings,
        db=db,
        subscriptions=subscriptions(ctx),
        routers=[build_router(db, ctx), build_escalations_router(db, ctx)],
        background=[("referral-watchdog", watchdog.run)],
        description="Onward referrals, signposting, DNA follow-up, and escalation of bounced, unanswered "
        "or overdue work to the practice's clinical lead.",
    )
