"""Fixtures for triage tests: a controllable clock, hosts on a real broker and database, an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.triage.bootstrap import TriageHost, build_host
from services.triage.settings import TriageSettings
from tests.support.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


HostFactory = Callable[..., TriageHost]


@pytest.fixture
async def make_host(
    amqp_url: str, make_database_url: Callable[[str], str], clock: FakeClock
) -> AsyncIterator[HostFactory]:
    """Build triage hosts on this test's broker and one database (so a new host is a restart)."""
    database_url = make_database_url("triage")
    built: list[TriageHost] = []

    def make(**overrides: Any) -> TriageHost:
        settings = TriageSettings(
            rabbitmq_url=amqp_url,
            database_url=database_url,
            relay_poll_seconds=0.1,
            watchdog_interval_seconds=0.05,
            **overrides,
        )
        host = build_host(settings, clock=clock)
        built.append(host)
        return host

    yield make
    for host in built:
        if host.started:
            await host.stop()


@pytest.fixture
async def triage(make_host: HostFactory) -> TriageHost:
    host = make_host()
    await host.start()
    return host


@pytest.fixture
async def client(triage: TriageHost) -> AsyncIterator[httpx.AsyncClient]:
    # ASGITransport does not run the app's lifespan: the `triage` fixture owns start and stop.
    transport = httpx.ASGITransport(app=triage.http_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://triage") as http:
        yield http
