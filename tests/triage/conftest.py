"""Fixtures for triage tests: a controllable clock, hosts on a real broker and database, an HTTP client.

HTTP clients carry a bearer token from the embedded provider: by default the MHP `mhp.ahmed` of PCN
U00123, whose practice Y01234 the test calls come from (tests/support/factories.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from services.triage.bootstrap import TriageHost, build_host
from services.triage.settings import TriageSettings
from tests.support.clock import FakeClock
from tests.support.identity import MHP, Tokens


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


@asynccontextmanager
async def api(host: TriageHost, headers: dict[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the host's HTTP app, sending `headers` (a token) with every request unless overridden."""
    # ASGITransport does not run the app's lifespan: whoever built the host owns start and stop.
    transport = httpx.ASGITransport(app=host.http_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://triage", headers=headers) as http:
        yield http


@pytest.fixture
async def client(triage: TriageHost, tokens: Tokens) -> AsyncIterator[httpx.AsyncClient]:
    """The MHP of the test calls' PCN."""
    async with api(triage, tokens.user(MHP)) as http:
        yield http
