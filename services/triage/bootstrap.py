"""Composition root for triage: builds the database, subscriptions, HTTP API and host from settings."""

from __future__ import annotations

from services.triage.api import build_router
from services.triage.handlers import TriageContext, on_call_received
from services.triage.models import TABLES
from services.triage.settings import TriageSettings
from shared.contracts.v1 import CallReceived
from shared.db import Database
from shared.messaging.consumer import Subscription
from shared.service import MESSAGING_TABLES, ServiceHost

SERVICE = "triage"


def build_host(settings: TriageSettings | None = None) -> ServiceHost:
    settings = settings or TriageSettings()
    db = Database(settings.database_url, [*TABLES, *MESSAGING_TABLES])
    ctx = TriageContext(producer=f"{settings.organisation_code}/{SERVICE}")
    return ServiceHost(
        name=SERVICE,
        settings=settings,
        db=db,
        subscriptions=[Subscription("on_call_received", (CallReceived,), on_call_received)],
        routers=[build_router(db, ctx)],
        description="MHP telephone triage: worklist and UK MHTS decisions.",
    )
