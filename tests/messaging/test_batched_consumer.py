"""The batching consumer on a real RabbitMQ and a real database (SQLite or PostgreSQL).

Deliveries that arrive together are applied in one transaction with a savepoint each: a poison message
is dead-lettered alone, a transient failure retries only its own message, everything else is applied
exactly once, and a consumer killed mid-batch (or between its commit and its acks) loses and doubles
nothing.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from sqlmodel import select

from shared.contracts.v1 import CallReceived
from shared.db import Database, call_after_commit
from shared.messaging.consumer import (
    REASON_HEADER,
    Delivery,
    MessageProcessor,
    Outcome,
    PermanentFailure,
    Subscription,
    Verdict,
)
from shared.messaging.inbox import InboxRecord
from shared.messaging.senders import SenderCheck
from shared.messaging.topology import declare_topology
from shared.migrations import prepare_schema
from shared.service import MESSAGING_TABLES, ServiceHost
from tests.messaging.batch_probe import QUEUE, AppliedNote, batch_probe, noting
from tests.support.amqp import eventually, get_all, publish_event, publish_raw, queue_depth, sender_for
from tests.support.factories import call_received

pytestmark = pytest.mark.integration


async def _applied(db: Database) -> Counter[uuid.UUID]:
    async with db.read() as session:
        return Counter((await session.exec(select(AppliedNote.event_id))).all())


async def _inbox(db: Database) -> set[uuid.UUID]:
    async with db.read() as session:
        return set((await session.exec(select(InboxRecord.event_id))).all())


def _record_batches(host: ServiceHost) -> list[int]:
    """Sizes of the batches the host's consumer applies (a spy around the real `apply_batch`)."""
    sizes: list[int] = []
    real = host.processor.apply_batch

    async def spy(queue: str, subscription: Any, deliveries: Sequence[Any]) -> list[Verdict]:
        sizes.append(len(deliveries))
        return await real(queue, subscription, deliveries)

    host.processor.apply_batch = spy  # type: ignore[method-assign]
    return sizes


async def _queue_up(amqp_url: str, host: ServiceHost) -> None:
    """Declare the host's queue before it starts, so what is published waits there for one batch."""
    await declare_topology(amqp_url, [s.queue_spec(host.name, 5) for s in host.subscriptions])


async def test_a_batch_with_one_poison_message_dead_letters_only_it_and_applies_the_rest_once(
    amqp_url: str, make_database_url: Callable[[str], str]
) -> None:
    host = batch_probe(amqp_url, make_database_url("batch"), noting())
    sizes = _record_batches(host)
    await _queue_up(amqp_url, host)
    good = [call_received() for _ in range(12)]
    refused = call_received(reason="permanent")  # valid, but its handler refuses it after writing
    for event in good[:6]:
        await publish_event(amqp_url, event)
    await publish_raw(amqp_url, b"{not json", routing_key=good[0].routing_key, message_id="poison-1")
    await publish_event(amqp_url, refused)
    await publish_event(amqp_url, good[0])  # a duplicate in the same batch
    for event in good[6:]:
        await publish_event(amqp_url, event)

    await host.start()
    try:
        dead = await get_all(amqp_url, f"{QUEUE}.dlq", expect=2)
        await eventually(lambda: _drained(amqp_url), message="the queue never drained")
        applied = await _applied(host.db)
        inbox = await _inbox(host.db)
    finally:
        await host.stop()

    assert max(sizes) > 2, f"the deliveries were never applied together: {sizes}"
    assert sorted(d.message_id or "" for d in dead) == sorted(["poison-1", str(refused.event_id)])
    reasons = {d.message_id: d.headers[REASON_HEADER] for d in dead}
    assert "not valid JSON" in reasons["poison-1"]
    assert reasons[str(refused.event_id)] == "cannot apply: rule X"
    assert applied == Counter({e.event_id: 1 for e in good})  # the refused one's write was rolled back
    assert inbox == {e.event_id for e in good}


async def _drained(url: str) -> bool:
    return await queue_depth(url, QUEUE) == 0


async def test_a_transient_failure_in_a_batch_retries_only_that_message(
    amqp_url: str, make_database_url: Callable[[str], str]
) -> None:
    handler = noting(failing={"left": 2})
    host = batch_probe(amqp_url, make_database_url("batch"), handler)
    sizes = _record_batches(host)
    await _queue_up(amqp_url, host)
    good = [call_received() for _ in range(10)]
    flaky = call_received(reason="transient")
    for event in [*good[:5], flaky, *good[5:]]:
        await publish_event(amqp_url, event)

    await host.start()
    try:
        await eventually(lambda: _inbox_holds(host.db, 11), timeout=30, message="not everything applied")
        applied = await _applied(host.db)
    finally:
        await host.stop()

    assert max(sizes) > 2, f"the deliveries were never applied together: {sizes}"
    assert handler.calls[flaky.event_id] == 3  # failed twice, applied on the third delivery
    assert all(handler.calls[e.event_id] == 1 for e in good)
    assert applied == Counter({e.event_id: 1 for e in [*good, flaky]})


async def _inbox_holds(db: Database, expected: int) -> bool:
    return len(await _inbox(db)) == expected


@pytest.mark.parametrize("mode", ["mid_batch", "after_commit"])
async def test_a_consumer_killed_during_a_batch_loses_and_doubles_nothing(
    amqp_url: str, make_database_url: Callable[[str], str], mode: str
) -> None:
    database_url = make_database_url("batch")
    events = [call_received() for _ in range(20)]
    await _queue_up(amqp_url, batch_probe(amqp_url, database_url, noting()))
    for event in events:
        await publish_event(amqp_url, event)

    # A consumer process that SIGKILLs itself mid-batch (nothing committed), or right after its first
    # commit (nothing of that batch acked).
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.messaging.batch_probe", amqp_url, database_url, mode
    )
    assert await asyncio.wait_for(process.wait(), timeout=60) == -9

    host = batch_probe(amqp_url, database_url, noting())
    await host.start()
    try:
        await eventually(lambda: _inbox_holds(host.db, 20), timeout=30, message="events were lost")
        await eventually(lambda: _drained(amqp_url), message="the queue never drained")
        applied = await _applied(host.db)
    finally:
        await host.stop()
    assert applied == Counter({e.event_id: 1 for e in events})


async def test_a_message_rolled_back_in_a_batch_runs_none_of_its_after_commit_hooks(
    make_database_url: Callable[[str], str],
) -> None:
    db = Database(make_database_url("hooks"), [AppliedNote.__table__, *MESSAGING_TABLES])  # type: ignore[attr-defined]
    await prepare_schema(db)
    ran: list[uuid.UUID] = []

    async def handler(session: Any, event: CallReceived) -> None:
        call_after_commit(session, lambda: ran.append(event.event_id))
        if event.data.reason == "permanent":
            raise PermanentFailure("cannot apply: rule X")

    processor = MessageProcessor(db=db, dead_letters=_Sink(), senders=SenderCheck("RMH"))
    subscription = Subscription("on_call_received", (CallReceived,), handler)
    events = [call_received(), call_received(reason="permanent"), call_received()]
    try:
        outcomes = await processor.process_batch(QUEUE, subscription, [_delivery(e) for e in events])
    finally:
        await db.dispose()
    assert outcomes == [Outcome.APPLIED, Outcome.DEAD_LETTERED, Outcome.APPLIED]
    assert ran == [events[0].event_id, events[2].event_id]


class _Sink:
    async def publish_dead_letter(
        self, body: bytes, *, queue: str, properties: dict[str, Any], headers: dict[str, Any]
    ) -> None:
        return None


def _delivery(event: CallReceived) -> Delivery:
    return Delivery(
        body=event.model_dump_json().encode(),
        routing_key=event.routing_key,
        message_id=str(event.event_id),
        correlation_id=str(event.correlation_id),
        message_type=event.event_type,
        headers={},
        user_id=sender_for(event),
    )
