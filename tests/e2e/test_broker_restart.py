"""A RabbitMQ restart loses and duplicates nothing: the outbox holds events while the broker is down,
the relay publishes them once it is back, and consumers reconnect and go on consuming.

Runs on a private broker node of its own, so restarting it disturbs no other test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aio_pika
import pytest
from sqlalchemy import func
from sqlmodel import select

from mhp.broker import LocalNode, rabbitmq_installed
from services.triage.adapters.tables import TriageCall
from services.triage.adapters.unit_of_work import SqlTriageUnitOfWork
from services.triage.application.commands import RecordDecision
from services.triage.application.context import TriageContext
from services.triage.application.handlers import record_decision
from services.triage.bootstrap import build_host
from services.triage.domain.mhts import DecisionInput
from services.triage.settings import TriageSettings
from shared.contracts.codes import TriageCode
from shared.contracts.routing import binding_key
from shared.contracts.v1 import CallReceived
from shared.messaging.topology import QueueSpec, declare_topology
from shared.service import ServiceHost
from tests.support.amqp import eventually, publish_event
from tests.support.factories import call_received

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not rabbitmq_installed(), reason="needs a local rabbitmq-server to restart"),
]

CAPTURE = "test.capture_call_triaged"


@pytest.fixture
def own_node(tmp_path: Path) -> Iterator[LocalNode]:
    node = LocalNode(tmp_path / "rabbitmq")
    node.start()
    # As on the session's test broker: guest stands in for every sender (triage's and the practices').
    node.allow_impersonation()
    yield node
    node.stop()


@pytest.fixture
async def triage(own_node: LocalNode, make_database_url: Callable[[str], str]) -> AsyncIterator[ServiceHost]:
    settings = TriageSettings(
        rabbitmq_url=own_node.url, database_url=make_database_url("triage"), relay_poll_seconds=0.2
    )
    host = build_host(settings)
    await host.start()
    yield host
    await host.stop()


async def _stored_calls(host: ServiceHost) -> int:
    async with host.db.read() as session:
        return int((await session.exec(select(func.count()).select_from(TriageCall))).one())


async def _decide(host: ServiceHost, calls: list[CallReceived]) -> None:
    ctx = TriageContext(producer="RMH/triage")
    for event in calls:
        decision = DecisionInput(triage_code=TriageCode.D, clinician="mhp.test")
        async with SqlTriageUnitOfWork.begin(host.db) as uow:
            await record_decision(RecordDecision(event.data.call_id, decision), uow, ctx)


async def _drain(url: str, queue: str) -> list[str]:
    """Every message id now on a durable queue (acked)."""
    ids: list[str] = []
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        target = await channel.declare_queue(queue, passive=True)
        while (message := await target.get(fail=False)) is not None:
            ids.append(message.message_id or "")
            await message.ack()
    return ids


async def test_broker_restart_loses_and_duplicates_nothing(own_node: LocalNode, triage: ServiceHost) -> None:
    url = own_node.url
    # A durable quorum queue survives the restart and records every call.triaged the relay publishes.
    await declare_topology(url, [QueueSpec(CAPTURE, (binding_key("call.triaged"),))])
    before = [call_received() for _ in range(30)]
    for event in before:
        await publish_event(url, event)
    await eventually(lambda: _has_calls(triage, 30), timeout=30)
    await _decide(triage, before[:15])

    await asyncio.to_thread(own_node.stop)
    # Decisions taken while the broker is down commit with their events in the outbox.
    await _decide(triage, before[15:])
    await asyncio.to_thread(own_node.start)

    after = [call_received() for _ in range(30)]
    for event in after:
        await publish_event(url, event)
    # The consumer reconnected by itself, and the relay published what waited in the outbox.
    await eventually(lambda: _has_calls(triage, 60), timeout=60, message="consumer did not resume")
    published: list[str] = []

    async def all_published() -> bool:
        published.extend(await _drain(url, CAPTURE))
        return len(published) >= 30

    await eventually(
        all_published, timeout=60, interval=0.5, message=lambda: f"{len(published)}/30 published"
    )
    await asyncio.sleep(1.0)
    published.extend(await _drain(url, CAPTURE))
    assert len(published) == 30
    assert len(set(published)) == 30


async def _has_calls(host: ServiceHost, expected: int) -> bool:
    return await _stored_calls(host) == expected
