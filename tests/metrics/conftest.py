"""Fixtures for the metrics tests: the service served over real HTTP (uvicorn) on a free port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from services.metrics.bootstrap import build_host
from services.metrics.cli import archive_size
from services.metrics.settings import MetricsSettings
from shared.contracts.envelope import Envelope
from shared.service import ServiceHost
from tests.metrics import journeys as gen
from tests.support.amqp import eventually, publish_event
from tests.support.http import free_port, serving


async def publish_and_wait(
    url: str, host: ServiceHost, events: list[Envelope[Any]], timeout: float = 120
) -> None:
    """Publish `events` (16 at a time) and wait until the metrics host has archived them all."""
    for start in range(0, len(events), 16):
        await asyncio.gather(*(publish_event(url, e) for e in events[start : start + 16]))

    async def consumed() -> bool:
        return await archive_size(host.db) >= len(events)

    await eventually(consumed, timeout=timeout, message="not every event was archived")


@dataclass
class Served:
    host: ServiceHost
    base_url: str


@pytest.fixture
async def metrics(amqp_url: str, make_database_url: Callable[[str], str]) -> AsyncIterator[ServiceHost]:
    """The metrics host started (migrations, consumer, relay), its clock at the journeys' AS_OF."""
    settings = MetricsSettings(rabbitmq_url=amqp_url, database_url=make_database_url("metrics"))
    host = build_host(settings, clock=lambda: gen.AS_OF)
    await host.start()
    yield host
    await host.stop()


ServeMetrics = Callable[..., AbstractAsyncContextManager[Served]]


@pytest.fixture
def serve_metrics(amqp_url: str, make_database_url: Callable[[str], str]) -> ServeMetrics:
    """`async with serve_metrics(live_feed_max_connections=1) as served:` the service with those settings."""

    @asynccontextmanager
    async def serve(**settings: Any) -> AsyncIterator[Served]:
        port = free_port()
        config = MetricsSettings(
            rabbitmq_url=amqp_url, database_url=make_database_url("metrics"), http_port=port, **settings
        )
        host = build_host(config, clock=lambda: gen.AS_OF)
        async with serving(host.http_app(), port) as base_url:
            yield Served(host, base_url)

    return serve


@pytest.fixture
async def served_metrics(serve_metrics: ServeMetrics) -> AsyncIterator[Served]:
    """The metrics service as `python -m services.metrics` runs it: uvicorn, lifespan starting the host."""
    async with serve_metrics() as served:
        yield served
