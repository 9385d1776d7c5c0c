"""Issue 20 on triage's edges, on a real broker and database: retried decisions, dirty text, extreme times."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from services.triage.adapters.tables import TriageCall, TriageDecision
from services.triage.adapters.unit_of_work import SqlTriageUnitOfWork
from services.triage.bootstrap import TriageHost
from services.triage.domain.call import ConcurrentDecision
from shared.contracts.routing import binding_key
from shared.messaging.consumer import REASON_HEADER
from shared.messaging.outbox import OutboxMessage
from tests.support.amqp import EventCapture, eventually, get_all, publish_event, publish_raw
from tests.support.clock import MONDAY_10AM
from tests.support.factories import call_received
from tests.support.identity import MHP, MHP_2, Tokens

pytestmark = pytest.mark.integration

QUEUE = "triage.on_call_received"
RISK = {"summary": "Passive thoughts, no plan", "thoughts": True}


async def _take_in(host: TriageHost, url: str) -> uuid.UUID:
    event = call_received(occurred_at=MONDAY_10AM)
    await publish_event(url, event)

    async def stored() -> bool:
        async with host.db.read() as session:
            return await session.get(TriageCall, event.data.call_id) is not None

    await eventually(stored)
    return event.data.call_id


async def _counts(host: TriageHost) -> tuple[int, int]:
    """(decisions stored, call.triaged staged in the outbox)."""
    async with host.db.read() as session:
        decisions = (await session.exec(select(func.count()).select_from(TriageDecision))).one()
        triaged = (
            await session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.event_type == "call.triaged")
            )
        ).one()
    return int(decisions), int(triaged)


async def _decide(
    client: httpx.AsyncClient, call_id: uuid.UUID, headers: dict[str, str] | None = None, **body: Any
) -> httpx.Response:
    """The decision as the client's MHP (or whoever `headers` names): the clinician is the token's user."""
    return await client.post(f"/calls/{call_id}/decision", json=body, headers=headers)


# --- a retried decision is not a re-triage -------------------------------------------------------


async def test_a_decision_sent_again_answers_200_with_the_current_decision_and_publishes_nothing(
    triage: TriageHost, client: httpx.AsyncClient, amqp_url: str, tokens: Tokens
) -> None:
    call_id = await _take_in(triage, amqp_url)
    async with EventCapture(amqp_url, binding_key("call.triaged")) as capture:
        first = await _decide(client, call_id, triage_code="D", risk=RISK)
        retried = await _decide(client, call_id, triage_code="D", risk=RISK)  # the response was lost
        colleague = await _decide(client, call_id, tokens.user(MHP_2), triage_code="D", risk=RISK)
        await capture.wait_for(1)
        await triage.relay.run_once()
    assert first.status_code == 201, first.text
    assert (retried.status_code, colleague.status_code) == (200, 200)
    for again in (retried.json(), colleague.json()):
        assert again["decision_id"] == first.json()["decision_id"]
        assert again["event_id"] == first.json()["event_id"]
        assert again["respond_by"] == first.json()["respond_by"]
        assert again["supersedes"] is None
    assert await _counts(triage) == (1, 1)
    assert len(capture.of_type("call.triaged")) == 1  # booking sees one decision: no cancel, no rebook
    [decision] = (await client.get(f"/calls/{call_id}")).json()["decisions"]
    assert (decision["clinician"], decision["current"], decision["superseded_by"]) == (MHP, True, None)


async def test_a_different_decision_after_a_retry_still_supersedes(
    triage: TriageHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    call_id = await _take_in(triage, amqp_url)
    first = (await _decide(client, call_id, triage_code="E")).json()
    await _decide(client, call_id, triage_code="E")
    re_triage = await _decide(client, call_id, triage_code="C")
    assert re_triage.status_code == 201
    assert re_triage.json()["supersedes"] == first["decision_id"]
    assert await _counts(triage) == (2, 2)


async def test_a_call_whose_current_decision_changed_meanwhile_is_not_overwritten(
    triage: TriageHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    call_id = await _take_in(triage, amqp_url)
    first = (await _decide(client, call_id, triage_code="D")).json()
    async with SqlTriageUnitOfWork.begin(triage.db) as uow:
        call = await uow.calls.get(call_id)
        assert call is not None
        with pytest.raises(ConcurrentDecision):  # as read by a request racing with the first
            await uow.calls.save(call, replacing=None)
    [decision] = (await client.get(f"/calls/{call_id}")).json()["decisions"]
    assert decision["decision_id"] == first["decision_id"]


async def test_the_same_idempotency_key_replays_the_first_answer(
    triage: TriageHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    call_id = await _take_in(triage, amqp_url)
    headers = {"Idempotency-Key": f"decision-{call_id}"}
    body = {"triage_code": "D"}
    first = await client.post(f"/calls/{call_id}/decision", json=body, headers=headers)
    replay = await client.post(f"/calls/{call_id}/decision", json=body, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert await _counts(triage) == (1, 1)


# --- free text is clean, and refusals never echo it ----------------------------------------------


@pytest.mark.parametrize(
    "summary",
    [
        "no plan\x00 said 9434765919",
        "plan \u202eenil on\u202c",  # right-to-left override
        "\x1b[31mred\x1b[0m",  # ANSI escape
        "x" * 4001,
    ],
    ids=["NUL", "bidi override", "ANSI escape", "too long"],
)
async def test_a_risk_summary_with_control_characters_is_refused_without_echoing_it(
    triage: TriageHost, client: httpx.AsyncClient, amqp_url: str, summary: str
) -> None:
    call_id = await _take_in(triage, amqp_url)
    response = await _decide(client, call_id, triage_code="D", risk={"summary": summary})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][-1] == "summary"
    assert summary not in response.text
    assert "9434765919" not in response.text
    assert "enil on" not in response.text
    assert await _counts(triage) == (0, 0)


async def test_a_risk_summary_may_hold_newlines_tabs_and_dates(
    triage: TriageHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    call_id = await _take_in(triage, amqp_url)
    summary = "Overdose on 12/11/2026.\n\tNo plan now; lives with partner."
    response = await _decide(client, call_id, triage_code="D", risk={"summary": summary})
    assert response.status_code == 201, response.text
    [decision] = (await client.get(f"/calls/{call_id}")).json()["decisions"]
    assert decision["risk"]["summary"] == summary


# --- event times outside the contract are dead-lettered once, at once ----------------------------


@pytest.mark.parametrize(
    "occurred_at",
    ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", 1763287200, "1999-12-31T23:59:59Z"],
    ids=["year 1", "year 9999", "a number", "before 2000"],
)
async def test_a_call_at_an_impossible_time_is_dead_lettered_at_the_first_delivery(
    triage: TriageHost, amqp_url: str, occurred_at: object
) -> None:
    bad = call_received(occurred_at=MONDAY_10AM)
    raw = json.loads(bad.model_dump_json())
    raw["occurred_at"] = occurred_at
    await publish_raw(
        amqp_url, json.dumps(raw).encode(), routing_key=bad.routing_key, message_id=str(bad.event_id)
    )
    good = await _take_in(triage, amqp_url)  # the valid call behind it is applied

    [dead] = await get_all(amqp_url, f"{QUEUE}.dlq", expect=1)
    assert "occurred_at" in dead.headers[REASON_HEADER]
    assert "gave up" not in dead.headers[REASON_HEADER]  # refused, not retried to the limit
    assert int(dead.headers.get("x-delivery-count", 0)) == 0
    assert raw["data"]["patient"]["nhs_number"] not in dead.headers[REASON_HEADER]
    async with triage.db.read() as session:
        assert await session.get(TriageCall, bad.data.call_id) is None
        assert await session.get(TriageCall, good) is not None
