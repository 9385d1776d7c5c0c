"""Who may read metrics, over real HTTP on the real broker and database, with tokens from the embedded
provider: no token is a 401, a role without the action a 403, another PCN (or one outside the trust's
directory) a 404, and a full live feed a 503."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.metrics.application.access import POLICY, Action
from services.metrics.cli import archive_size
from shared.contracts.codes import EscalationReason, EscalationTarget
from shared.contracts.v1 import CaseEscalated, CaseEscalatedData
from shared.identity import Role
from tests.metrics.conftest import Served, ServeMetrics, publish_and_wait
from tests.support.amqp import eventually, publish_event
from tests.support.factories import call_received
from tests.support.identity import OTHER_PCN_MANAGER, PCN_MANAGER, TRUST_MANAGER, Tokens

pytestmark = pytest.mark.integration

MONTH = "2026-10"
OUTSIDE = "U99999"
"""A PCN whose events metrics has archived but which the trust's directory does not list."""

ROUTES: list[tuple[str, dict[str, str], Action]] = [
    ("/reports/monthly", {"pcn": "U00123", "month": MONTH}, Action.READ_MONTHLY_RETURN),
    ("/reports/monthly", {"pcn": "U00123", "month": MONTH, "format": "csv"}, Action.READ_MONTHLY_RETURN),
    ("/reports/trust", {"month": MONTH}, Action.READ_TRUST_VIEW),
    ("/live", {}, Action.WATCH_LIVE_FEED),
    ("/", {"month": MONTH}, Action.VIEW_TRUST_DASHBOARD),
    ("/dashboard/pcn/U00123", {"month": MONTH}, Action.VIEW_PCN_DASHBOARD),
]
NOT_AUTHENTICATED: list[dict[str, str]] = [
    {},
    {"Authorization": "Bearer not-a-jwt"},
    {"Authorization": "Basic Zm9vOmJhcg=="},
]
PCN_ROUTES = [(path, params) for path, params, _ in ROUTES if "pcn" in params or "/pcn/" in path]


@pytest.fixture
async def loaded(serve_metrics: ServeMetrics, amqp_url: str) -> AsyncIterator[Served]:
    """Metrics served, having consumed a call of each PCN of the directory and one of a PCN outside it."""
    async with serve_metrics() as served:
        calls = [
            call_received(pcn_code="U00123", practice_ods="Y01234"),
            call_received(pcn_code="U00456", practice_ods="Y04561"),
            call_received(pcn_code=OUTSIDE, practice_ods="Y09999"),
        ]
        await publish_and_wait(amqp_url, served.host, list(calls))
        yield served


async def _get(client: httpx.AsyncClient, path: str, params: dict[str, str], **kw: Any) -> httpx.Response:
    """The response's status and headers (its body too unless it is the never-ending live stream)."""
    async with client.stream("GET", path, params=params, **kw) as response:
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            await response.aread()
        return response


def _client(served: Served, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=served.base_url, timeout=30, headers=headers)


def _scoped(path: str, params: dict[str, str], pcn: str) -> tuple[str, dict[str, str]]:
    return path.replace("U00123", pcn), {k: pcn if k == "pcn" else v for k, v in params.items()}


async def test_every_route_without_a_valid_token_is_a_401(loaded: Served) -> None:
    async with _client(loaded) as client:
        for path, params, _ in ROUTES:
            for headers in (
                {},
                {"Authorization": "Bearer not-a-jwt"},
                {"Authorization": "Basic Zm9vOmJhcg=="},
            ):
                response = await _get(client, path, params, headers=headers)
                assert response.status_code == 401, (path, headers, response.status_code)
                assert response.headers["www-authenticate"].startswith("Bearer")


async def test_every_role_gets_its_routes_and_a_403_with_the_reason_on_the_rest(
    loaded: Served, tokens: Tokens
) -> None:
    answered: dict[tuple[str, str], int] = {}
    async with _client(loaded) as client:
        for role in Role:
            for path, params, action in ROUTES:
                response = await _get(client, path, params, headers=tokens.role(role))
                answered[(role, path + str(sorted(params)))] = response.status_code
                if POLICY.allows(role, action):
                    assert response.status_code == 200, (role, path, response.status_code)
                else:
                    assert response.status_code == 403, (role, path, response.status_code)
                    assert response.json() == {"detail": f"the {role} role may not {action}"}
    # The matrix as the report gives it: the managers only, and a PCN manager never the trust-wide views.
    allowed = {(role, route) for (role, route), status in answered.items() if status == 200}
    assert {role for role, _ in allowed} == {Role.PCN_MANAGER, Role.TRUST_MANAGER}
    assert len([1 for role, _ in allowed if role == Role.PCN_MANAGER]) == len(PCN_ROUTES)


async def test_another_pcn_or_one_outside_the_directory_answers_404_as_if_it_did_not_exist(
    loaded: Served, tokens: Tokens
) -> None:
    async with _client(loaded) as client:
        for path, params in PCN_ROUTES:
            # The PCN manager of U00456 asking for U00123 (which has data) ...
            theirs = await _get(client, path, params, headers=tokens.user(OTHER_PCN_MANAGER))
            # ... is told exactly what they are told of a PCN that no one has heard of.
            unheard = await _get(client, *_scoped(path, params, "U00999"), headers=tokens.user(PCN_MANAGER))
            outside = await _get(client, *_scoped(path, params, OUTSIDE), headers=tokens.user(TRUST_MANAGER))
            for response in (theirs, unheard, outside):
                assert (response.status_code, response.json()) == (404, {"detail": "not found"}), path
            own = await _get(client, *_scoped(path, params, "U00456"), headers=tokens.user(OTHER_PCN_MANAGER))
            any_pcn = await _get(client, *_scoped(path, params, "U00456"), headers=tokens.user(TRUST_MANAGER))
            assert (own.status_code, any_pcn.status_code) == (200, 200), path


async def test_the_trust_view_lists_only_the_pcns_of_the_trusts_directory(
    loaded: Served, tokens: Tokens
) -> None:
    async with _client(loaded, tokens.user(TRUST_MANAGER)) as client:
        view = (await client.get("/reports/trust", params={"month": MONTH})).json()
        page = await client.get("/", params={"month": MONTH})
    assert sorted(view["pcns"]) == ["U00123", "U00456"]
    assert OUTSIDE not in page.text


def _escalation(pcn: str, practice: str) -> CaseEscalated:
    return CaseEscalated.create(
        CaseEscalatedData(
            escalation_id=uuid.uuid4(), target=EscalationTarget.CRISIS_TEAM, reason=EscalationReason.RISK
        ),
        producer="RMH/triage",
        pcn_code=pcn,
        practice_ods=practice,
        correlation_id=uuid.uuid4(),
    )


async def test_the_live_feed_shows_only_the_directorys_pcns(
    loaded: Served, amqp_url: str, tokens: Tokens
) -> None:
    async with (
        _client(loaded, tokens.user(TRUST_MANAGER)) as client,
        client.stream("GET", "/live") as response,
    ):
        lines = response.aiter_lines()
        assert (await anext(lines)).startswith("retry:")
        before = await archive_size(loaded.host.db)
        await publish_event(amqp_url, _escalation(OUTSIDE, "Y09999"))

        async def consumed() -> bool:
            return await archive_size(loaded.host.db) > before

        await eventually(consumed, message="the outside escalation was not consumed")
        inside = _escalation("U00123", "Y01234")
        await publish_event(amqp_url, inside)

        async def first_alert() -> dict[str, Any]:
            async for line in lines:
                if line.startswith("data: "):
                    return dict(json.loads(line.removeprefix("data: ")))
            raise AssertionError("stream ended before an alert")

        alert = await asyncio.wait_for(first_alert(), timeout=30)
    # The outside PCN's alert reached the feed first, and was not shown.
    assert (alert["event_id"], alert["pcn_code"]) == (str(inside.event_id), "U00123")


async def test_live_feed_connections_are_capped_and_the_next_one_is_told_when_to_retry(
    serve_metrics: ServeMetrics, tokens: Tokens
) -> None:
    headers = tokens.user(TRUST_MANAGER)
    async with serve_metrics(live_feed_max_connections=2) as served, _client(served, headers) as client:
        async with client.stream("GET", "/live") as first, client.stream("GET", "/live") as second:
            assert (first.status_code, second.status_code) == (200, 200)
            refused = await client.get("/live")
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "5"
            assert "too many open streams" in refused.json()["detail"]

        # Closed streams give their slots back.
        async def a_slot_is_free() -> bool:
            async with client.stream("GET", "/live") as again:
                return again.status_code == 200

        await eventually(a_slot_is_free, message="a closed stream kept its slot")
