"""The whole platform, every service its own OS process, on a real broker: 200 calls from practice systems
flow through triage and booking to metrics, exactly once each, across a SIGKILL of the triage service.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import httpx
import pytest

from mhp.broker import free_port
from mhp.demo import load_demo_rota, synthetic_call
from mhp.platform import SERVICES, Platform
from shared.contracts.codes import APPOINTMENT_DISPOSITIONS, Disposition
from shared.contracts.routing import EXCHANGE
from shared.contracts.v1 import CallReceived
from shared.http.paging import MAX_LIMIT
from tests.support.amqp import eventually
from tests.support.identity import MHP, PCN_MANAGER, Tokens

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

CALLS = 200
PCN = "U00123"


@pytest.fixture
def platform(amqp_url: str, tmp_path: Path) -> Iterator[Platform]:
    fast = {f"{s.env_prefix}RELAY_POLL_SECONDS": "0.2" for s in SERVICES}
    running = Platform(
        amqp_url=amqp_url,
        run_dir=tmp_path,
        ports={s.name: free_port() for s in SERVICES},
        extra_env=fast,
    )
    running.start()
    try:
        running.wait_ready(timeout=120)
        yield running
    finally:
        running.stop()


async def _publish_as_a_practice_system(url: str, events: list[CallReceived]) -> None:
    """Plain aio-pika, as a practice's telephony system would publish: persistent, confirmed, mandatory."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(EXCHANGE)
        for event in events:
            await exchange.publish(
                aio_pika.Message(
                    event.model_dump_json().encode(),
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    message_id=str(event.event_id),
                    correlation_id=str(event.correlation_id),
                    type=event.event_type,
                ),
                routing_key=event.routing_key,
                mandatory=True,
            )


def _archived(metrics_db: Path) -> list[tuple[str, str, str]]:
    """(event_type, event_id, data) of every event the metrics service archived."""
    with sqlite3.connect(f"file:{metrics_db}?mode=ro", uri=True, timeout=30) as connection:
        rows = connection.execute("SELECT event_type, event_id, data FROM metrics_archive").fetchall()
    return [(str(t), str(uuid.UUID(str(i))), str(d)) for t, i, d in rows]


async def _worklist(client: httpx.AsyncClient, triage_url: str) -> list[dict[str, object]]:
    response = await client.get(f"{triage_url}/worklist", params={"pcn": PCN, "limit": MAX_LIMIT})
    response.raise_for_status()
    entries: list[dict[str, object]] = response.json()
    return entries


async def _decide(client: httpx.AsyncClient, triage_url: str, call_id: str, code: str) -> str:
    response = await client.post(f"{triage_url}/calls/{call_id}/decision", json={"triage_code": code})
    assert response.status_code == 201, response.text
    disposition: str = response.json()["disposition"]
    return disposition


async def test_200_calls_reach_metrics_exactly_once_through_every_service_across_a_crash(
    platform: Platform, amqp_url: str, tmp_path: Path, tokens: Tokens
) -> None:
    triage_url = platform.service("triage").url
    await load_demo_rota(platform.service("booking").url, tokens.issuer, weeks=2)
    rng = random.Random(2026)
    calls = [synthetic_call(rng) for _ in range(CALLS)]
    codes = rng.choices("CDEFG", k=CALLS)
    await _publish_as_a_practice_system(amqp_url, calls)

    async with httpx.AsyncClient(timeout=30, headers=tokens.user(MHP)) as client:
        waiting: list[dict[str, object]] = []

        async def all_on_the_worklist() -> bool:
            waiting[:] = await _worklist(client, triage_url)
            return len(waiting) == CALLS

        await eventually(
            all_on_the_worklist, timeout=120, interval=0.5, message=lambda: f"{len(waiting)} listed"
        )
        dispositions: dict[str, str] = {}
        for entry, code in zip(waiting[: CALLS // 2], codes, strict=False):
            dispositions[str(entry["call_id"])] = await _decide(
                client, triage_url, str(entry["call_id"]), code
            )

        # A crash: no graceful shutdown, whatever was in flight is redelivered or swept from the outbox.
        platform.kill("triage")
        platform.restart("triage")
        await asyncio.to_thread(platform.wait_ready, 120, ("triage",))
        for entry, code in zip(waiting[CALLS // 2 :], codes[CALLS // 2 :], strict=True):
            dispositions[str(entry["call_id"])] = await _decide(
                client, triage_url, str(entry["call_id"]), code
            )
        assert await _worklist(client, triage_url) == []
        # Every decision is the signed-in MHP's: the token's user, whatever a client might have claimed.
        for call_id in dispositions:
            trail = (await client.get(f"{triage_url}/calls/{call_id}")).json()
            assert {d["clinician"] for d in trail["decisions"]} == {MHP}

    metrics_db = tmp_path / "metrics.db"
    needs_appointment = {c for c, d in dispositions.items() if Disposition(d) in APPOINTMENT_DISPOSITIONS}
    archived: list[tuple[str, str, str]] = []

    def booking_outcomes() -> Counter[str]:
        # Each call needing an appointment ends booked or waitlisted (the data names the call).
        return Counter(
            call_id
            for event_type, _, data in archived
            if event_type in ("appointment.booked", "appointment.waitlisted")
            for call_id in needs_appointment
            if call_id in data
        )

    def settled() -> bool:
        archived[:] = _archived(metrics_db)
        by_type = Counter(event_type for event_type, _, _ in archived)
        return (
            by_type["call.received"] == CALLS
            and by_type["call.triaged"] == CALLS
            and len(booking_outcomes()) == len(needs_appointment)
        )

    await eventually(
        settled,
        timeout=180,
        interval=1.0,
        message=lambda: f"metrics saw {Counter(t for t, _, _ in archived)}",
    )
    received = [event_id for event_type, event_id, _ in archived if event_type == "call.received"]
    assert sorted(received) == sorted(str(c.event_id) for c in calls)  # each call once, none lost
    assert all(count == 1 for count in booking_outcomes().values())  # one booking outcome per call

    # The archive is coded fields only: the deciding clinician (checked above through triage) is not kept.
    assert not any(
        "clinician" in json.loads(data) for event_type, _, data in archived if event_type == "call.triaged"
    )

    async with httpx.AsyncClient(timeout=30, headers=tokens.user(PCN_MANAGER)) as client:
        month = calls[0].occurred_at.strftime("%Y-%m")
        response = await client.get(
            f"{platform.service('metrics').url}/reports/monthly", params={"pcn": PCN, "month": month}
        )
    assert response.status_code == 200, response.text
    response_times = response.json()["pcn_total"]["response_times"]
    assert sum(figures["triaged"] for figures in response_times.values()) == CALLS
    assert Counter({code: figures["triaged"] for code, figures in response_times.items()}) == Counter(codes)

    logs = "".join(service.log_path.read_text() for service in platform.running)
    leaked = [c.data.patient.nhs_number for c in calls if c.data.patient.nhs_number in logs]
    assert leaked == []
