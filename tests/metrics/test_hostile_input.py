"""Hostile input on a real broker and database (issue 20): metrics archives only events its contract
accepts, so no impossible date reaches its figures, and a hostile report query is a 422, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from services.metrics.adapters.live_feed import LiveFeed
from services.metrics.adapters.unit_of_work import SqlMetricsUnitOfWork
from services.metrics.application.commands import ArchiveEvent
from services.metrics.application.context import MetricsContext
from services.metrics.application.handlers.archive import archive_event
from services.metrics.bootstrap import MIGRATIONS, build_host
from services.metrics.cli import archive_size
from services.metrics.settings import MetricsSettings
from shared.messaging.consumer import REASON_HEADER
from shared.migrations import prepare_schema
from shared.service import ServiceHost
from tests.metrics import journeys as gen
from tests.metrics.conftest import ServeMetrics
from tests.metrics.unit.builders import altered_body
from tests.support.amqp import eventually, get_all, publish_event, publish_raw
from tests.support.factories import call_received
from tests.support.identity import TRUST_MANAGER, Tokens

pytestmark = pytest.mark.integration

DEAD_LETTERS = "metrics.on_event.dlq"
IMPOSSIBLE: list[dict[str, Any]] = [
    {"occurred_at": "9999-12-31T23:59:59Z"},
    {"occurred_at": "0001-01-01T00:00:00Z"},
    {"occurred_at": 1767225600},
    {"data__patient__date_of_birth": "1800-01-01"},
    {"data__patient__date_of_birth": "2100-01-01"},
]


@pytest.fixture
async def reporting(
    make_database_url: Callable[[str], str], tokens: Tokens
) -> AsyncIterator[httpx.AsyncClient]:
    """A trust manager's client of the metrics HTTP side over a migrated database holding one call of PCN
    U00123 (no broker needed)."""
    host = build_host(MetricsSettings(database_url=make_database_url("metrics")), clock=lambda: gen.AS_OF)
    await prepare_schema(host.db, MIGRATIONS)
    ctx = MetricsContext(clock=lambda: gen.AS_OF, feed=LiveFeed())
    async with SqlMetricsUnitOfWork.begin(host.db) as uow:
        await archive_event(ArchiveEvent(call_received()), uow, ctx)
    transport = httpx.ASGITransport(app=host.http_app())
    headers = tokens.user(TRUST_MANAGER)
    async with httpx.AsyncClient(transport=transport, base_url="http://metrics", headers=headers) as client:
        yield client
    await host.db.dispose()


async def test_events_with_impossible_dates_are_dead_lettered_and_never_archived(
    metrics: ServiceHost, amqp_url: str
) -> None:
    for changes in IMPOSSIBLE:
        event = call_received()
        body = altered_body(event, **changes)
        await publish_raw(amqp_url, body, routing_key=event.routing_key, message_id=str(event.event_id))
    valid = call_received(date_of_birth=date(1990, 5, 1))
    await publish_event(amqp_url, valid)

    async def archived_the_valid_one() -> bool:
        return await archive_size(metrics.db) >= 1

    await eventually(archived_the_valid_one, message="the valid call was not archived")
    refused = await get_all(amqp_url, DEAD_LETTERS, expect=len(IMPOSSIBLE))
    assert all(m.headers.get(REASON_HEADER) for m in refused)
    assert await archive_size(metrics.db) == 1
    async with metrics.db.engine.connect() as conn:
        stored = [
            str(v)
            for table in ("metrics_archive", "metrics_calls")
            for row in (await conn.execute(text(f'SELECT * FROM "{table}"'))).all()
            for v in row
        ]
    for impossible in ("9999-12", "0001-01-01", "1800-01-01", "2100-01-01", "1767225600", "1990-05-01"):
        assert not any(impossible in v for v in stored), impossible


HOSTILE_MONTHS = [
    "9999-12",
    "9999-13",
    "0001-01",
    "1999-12",
    "2029-01",
    "-2026-10",
    "99999-01",
    "2026-1",
    "2026-10-01",
    "\uff12\uff10\uff12\uff16-10",
    "2026-10\x00",
    "",
    "2" * 10_000,
]


@pytest.mark.parametrize("month", HOSTILE_MONTHS)
async def test_a_hostile_month_is_a_422_on_every_route(reporting: httpx.AsyncClient, month: str) -> None:
    routes = [
        ("/reports/monthly", {"pcn": "U00123", "month": month}),
        ("/reports/monthly", {"pcn": "U00123", "month": month, "format": "csv"}),
        ("/reports/trust", {"month": month}),
        ("/", {"month": month}),
        ("/dashboard/pcn/U00123", {"month": month}),
    ]
    for path, params in routes:
        response = await reporting.get(path, params=params)
        assert response.status_code == 422, (path, response.status_code)
        assert response.json()["detail"][0]["loc"] == ["query", "month"]


@pytest.mark.parametrize("month", ["9999-12", "1999-12", "2029-01"])
async def test_a_month_outside_the_window_is_refused_without_echoing_it(
    reporting: httpx.AsyncClient, month: str
) -> None:
    response = await reporting.get("/reports/trust", params={"month": month})
    assert response.status_code == 422
    assert month not in response.text
    assert "2000-01" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/reports/monthly", {"pcn": "U-0001", "month": "2026-10"}),
        ("/reports/monthly", {"pcn": "U" + "1" * 10_000, "month": "2026-10"}),
        ("/reports/monthly", {"pcn": "U00123", "month": "2026-10", "format": "xml"}),
        ("/reports/monthly", {"month": "2026-10"}),
        ("/dashboard/pcn/U-0001", {}),
    ],
)
async def test_a_hostile_pcn_or_format_is_a_422(
    reporting: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    response = await reporting.get(path, params=params)
    assert response.status_code == 422


async def test_the_edges_of_the_window_are_answered(reporting: httpx.AsyncClient) -> None:
    # The host's clock is the journeys' AS_OF (November 2026): two years ahead is November 2028.
    assert datetime(2026, 11, 20, 12, 0, tzinfo=UTC) == gen.AS_OF
    for month in ("2000-01", "2028-11"):
        trust = await reporting.get("/reports/trust", params={"month": month})
        monthly = await reporting.get("/reports/monthly", params={"pcn": "U00123", "month": month})
        page = await reporting.get("/", params={"month": month})
        assert (trust.status_code, monthly.status_code, page.status_code) == (200, 200, 200), month
    unicode_pcn = await reporting.get(
        "/reports/monthly", params={"pcn": "U\uff11\uff12\uff13\uff14\uff15", "month": "2026-10"}
    )
    later = await reporting.get("/reports/trust", params={"month": "2028-12"})
    assert unicode_pcn.status_code in (404, 422)
    assert later.status_code == 422


async def test_live_streams_are_bounded_per_process(serve_metrics: ServeMetrics, tokens: Tokens) -> None:
    headers = tokens.user(TRUST_MANAGER)
    async with (
        serve_metrics(live_feed_max_connections=1) as served,
        httpx.AsyncClient(base_url=served.base_url, timeout=30, headers=headers) as client,
        client.stream("GET", "/live") as held,
    ):
        assert held.status_code == 200
        # The one slot is taken: the next is refused at once, its oversized Last-Event-ID never looked up.
        response = await client.get("/live", headers={"Last-Event-ID": "x" * 10_000})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
