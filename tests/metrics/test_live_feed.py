"""The trust view and the live feed over real HTTP, fed by the real broker."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest

from services.metrics.cli import archive_size
from shared.contracts.codes import EscalationReason, EscalationTarget
from shared.contracts.v1 import CaseEscalated, CaseEscalatedData
from tests.metrics import journeys as gen
from tests.metrics.conftest import Served, publish_and_wait
from tests.support.amqp import eventually, publish_event
from tests.support.identity import TRUST_MANAGER, Tokens

pytestmark = pytest.mark.integration


def escalation(reason: EscalationReason, pcn: str = "U00123", practice: str = "Y01234") -> CaseEscalated:
    return CaseEscalated.create(
        CaseEscalatedData(
            escalation_id=uuid.uuid4(), target=EscalationTarget.PRACTICE_CLINICAL_LEAD, reason=reason
        ),
        producer="RMH/triage",
        pcn_code=pcn,
        practice_ods=practice,
        correlation_id=uuid.uuid4(),
    )


async def _next_alert(lines: Any) -> dict[str, Any]:
    event_name = None
    async for line in lines:
        if line.startswith("event: "):
            event_name = line.removeprefix("event: ")
        elif line.startswith("data: ") and event_name == "alert":
            return dict(json.loads(line.removeprefix("data: ")))
    raise AssertionError("stream ended before an alert")


async def test_live_feed_streams_escalations_and_deadline_breaches_as_they_are_consumed(
    served_metrics: Served, amqp_url: str, tokens: Tokens
) -> None:
    headers = tokens.user(TRUST_MANAGER)
    async with httpx.AsyncClient(base_url=served_metrics.base_url, timeout=30, headers=headers) as client:
        async with client.stream("GET", "/live") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.aiter_lines()
            assert (await anext(lines)).startswith("retry:")
            risk = escalation(EscalationReason.RISK)
            await publish_event(amqp_url, risk)
            first = await asyncio.wait_for(_next_alert(lines), timeout=30)

        # While the browser is away (streams end every few seconds), a breach is consumed ...
        breach = escalation(EscalationReason.TRIAGE_DEADLINE_BREACH, practice="Y01235")
        await publish_event(amqp_url, breach)

        async def consumed() -> bool:
            return await archive_size(served_metrics.host.db) >= 2

        await eventually(consumed)
        # ... and the reconnecting EventSource, sending Last-Event-ID, still gets it.
        async with client.stream("GET", "/live", headers={"Last-Event-ID": first["event_id"]}) as response:
            second = await asyncio.wait_for(_next_alert(response.aiter_lines()), timeout=30)
    assert first["event_id"] == str(risk.event_id)
    assert (first["kind"], first["reason"], first["pcn_code"]) == ("escalation", "risk", "U00123")
    assert second["event_id"] == str(breach.event_id)
    assert (second["kind"], second["reason"], second["practice_ods"]) == (
        "deadline_breach",
        "triage_deadline_breach",
        "Y01235",
    )


async def test_trust_view_puts_every_pcn_side_by_side_with_variation_flags(
    served_metrics: Served, amqp_url: str, tokens: Tokens
) -> None:
    journeys, sessions = gen.generate(seed=7, journeys_per_pcn=25)
    events = gen.events(journeys, sessions)
    await publish_and_wait(amqp_url, served_metrics.host, events)
    headers = tokens.user(TRUST_MANAGER)
    async with httpx.AsyncClient(base_url=served_metrics.base_url, timeout=30, headers=headers) as client:
        response = await client.get("/reports/trust", params={"month": gen.MONTH})
    assert response.status_code == 200
    view = response.json()
    assert sorted(view["pcns"]) == sorted(gen.PCNS)
    for pcn in gen.PCNS:
        expected = gen.expected_return(journeys, sessions, pcn)["pcn_total"]
        row = view["pcns"][pcn]
        assert row["dna_rate"] == expected["attendance"]["dna_rate"]
        assert row["initial_assessments"] == expected["initial_assessments"]["total"]
        assert set(row["flags"]) == {"dna_rate", "deadline_met_rate"}
        assert [t["month"] for t in view["trends"][pcn]][-1] == gen.MONTH
    assert "2sd_high/2sd_low" in view["flag_rules"]
