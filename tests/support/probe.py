"""A throw-away service for testing the spine itself: the real ServiceHost with a test table of its own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter
from sqlmodel import SQLModel

from shared.db import Database
from shared.messaging.consumer import Subscription
from shared.service import MESSAGING_TABLES, ServiceHost
from shared.settings import ServiceSettings


def probe_host(
    name: str,
    *,
    amqp_url: str,
    database_url: str,
    tables: Sequence[type[SQLModel]] = (),
    subscriptions: Sequence[Subscription] = (),
    routers: Sequence[APIRouter] = (),
    **settings: Any,
) -> ServiceHost:
    """A host named `name` on its own database holding `tables` beside the spine's (not started)."""
    config = ServiceSettings(rabbitmq_url=amqp_url, database_url=database_url, **settings)
    table_objects = [model.__table__ for model in tables]  # type: ignore[attr-defined]
    db = Database(config.database_url, [*table_objects, *MESSAGING_TABLES])
    return ServiceHost(name=name, settings=config, db=db, subscriptions=subscriptions, routers=routers)
