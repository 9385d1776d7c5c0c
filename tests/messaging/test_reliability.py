"""The event spine's guarantees on a real RabbitMQ and a real database.

Duplicates have one effect, a crash between commit and publish loses nothing, poison messages go to
the DLQ with their reason while the consumer keeps going, and concurrent relays never double-publish.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Field, SQLModel, select

from services.triage.adapters.tables import TriageCall
from services.triage.bootstrap import build_host
from services.triage.settings import TriageSettings
from shared.contracts.routing import binding_key
from shared.contracts.v1 import CallReceived
from shared.db import Database
from shared.messaging import outbox
from shared.messaging.consumer import REASON_HEADER, PermanentFailure, Subscription
from shared.messaging.inbox import InboxRecord
from shared.messaging.outbox import OutboxMessage, add_event
from shared.messaging.publisher import ConfirmingPublisher, PublishError
from shared.messaging.relay import OutboxRelay
from shared.messaging.topology import QueueSpec, declare_topology
from shared.migrations import prepare_schema
from shared.service import MESSAGING_TABLES, ServiceHost
from tests.support.amqp import EventCapture, eventually, get_all, publish_event, publish_raw, queue_depth
from tests.support.factories import call_received
from tests.support.probe import probe_host

pytestmark = pytest.mark.integration


@pytest.fixture
async def triage(amqp_url: str, make_database_url: Callable[[str], str]) -> AsyncIterator[ServiceHost]:
    settings = TriageSettings(
        rabbitmq_url=amqp_url, database_url=make_database_url("triage"), relay_poll_seconds=0.2
    )
    host = build_host(settings)
    await host.start()
    yield host
    await host.stop()


async def _count(db: Database, model: Any) -> int:
    async with db.read() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def test_duplicate_delivery_of_one_event_has_one_effect(triage: ServiceHost, amqp_url: str) -> None:
    event = call_received()
    for _ in range(3):
        await publish_event(amqp_url, event)
    queue = "triage.on_call_received"
    await eventually(lambda: _drained(amqp_url, queue), message="queue never drained")

    assert await _count(triage.db, TriageCall) == 1
    async with triage.db.read() as session:
        rows = (await session.exec(select(InboxRecord).where(InboxRecord.event_id == event.event_id))).all()
    assert [(r.consumer, r.event_id) for r in rows] == [(queue, event.event_id)]


async def _drained(url: str, queue: str) -> bool:
    return await queue_depth(url, queue) == 0


async def test_the_same_call_resent_under_a_new_event_id_makes_one_worklist_entry(
    triage: ServiceHost, amqp_url: str
) -> None:
    first = call_received()
    # The practice system re-sends the same request (same call and patient) under a new event id.
    resent = first.model_copy(update={"event_id": uuid.uuid4()})
    await publish_event(amqp_url, first)
    await publish_event(amqp_url, resent)
    await eventually(lambda: _inbox_size(triage.db, 2))
    assert await _count(triage.db, TriageCall) == 1


async def _inbox_size(db: Database, expected: int) -> bool:
    return await _count(db, InboxRecord) == expected


@pytest.mark.parametrize(
    ("body", "routing_key", "reason_part"),
    [
        (b"{not json", "call.received.v1.U00123.Y01234", "not valid JSON"),
        (b"\xff\xfe\x00", "call.received.v1.U00123.Y01234", "not valid JSON"),
        (b"[1, 2]", "call.received.v1.U00123.Y01234", "not a JSON object"),
        (b'{"event_type": "call.exploded"}', "call.received.v1.U00123.Y01234", "unknown event_type"),
    ],
)
async def test_undecodable_message_is_dead_lettered_with_its_reason(
    triage: ServiceHost, amqp_url: str, body: bytes, routing_key: str, reason_part: str
) -> None:
    await publish_raw(amqp_url, body, routing_key=routing_key, message_id="poison-1")
    [dead] = await get_all(amqp_url, "triage.on_call_received.dlq", expect=1)
    assert dead.body == body
    assert reason_part in dead.headers[REASON_HEADER]
    assert "exploded" not in dead.headers[REASON_HEADER]  # never the sender's value (issue 12)
    assert dead.headers["x-mhp-queue"] == "triage.on_call_received"


async def test_invalid_nhs_number_is_dead_lettered_without_echoing_it_and_consumer_keeps_consuming(
    triage: ServiceHost, amqp_url: str
) -> None:
    bad = call_received()
    raw = json.loads(bad.model_dump_json())
    valid_number = raw["data"]["patient"]["nhs_number"]
    wrong_check_digit = valid_number[:-1] + str((int(valid_number[-1]) + 1) % 10)
    raw["data"]["patient"]["nhs_number"] = wrong_check_digit
    await publish_raw(
        amqp_url, json.dumps(raw).encode(), routing_key=bad.routing_key, message_id=str(bad.event_id)
    )
    good = call_received()
    await publish_event(amqp_url, good)

    [dead] = await get_all(amqp_url, "triage.on_call_received.dlq", expect=1)
    reason = dead.headers[REASON_HEADER]
    assert "data.patient.nhs_number" in reason
    assert "Modulus 11" in reason
    assert wrong_check_digit not in reason
    await eventually(lambda: _call_stored(triage.db, good.data.call_id))
    assert await queue_depth(amqp_url, "triage.on_call_received") == 0


async def _call_stored(db: Database, call_id: uuid.UUID) -> bool:
    async with db.read() as session:
        return await session.get(TriageCall, call_id) is not None


async def test_body_claiming_another_pcn_than_its_routing_key_is_dead_lettered(
    triage: ServiceHost, amqp_url: str
) -> None:
    event = call_received(pcn_code="U00999")
    await publish_raw(
        amqp_url,
        event.model_dump_json().encode(),
        routing_key="call.received.v1.U00123.Y01234",
        message_id=str(event.event_id),
    )
    [dead] = await get_all(amqp_url, "triage.on_call_received.dlq", expect=1)
    assert "routing key does not match" in dead.headers[REASON_HEADER]
    assert await _count(triage.db, TriageCall) == 0


async def test_message_id_that_is_not_the_event_id_is_dead_lettered(
    triage: ServiceHost, amqp_url: str
) -> None:
    event = call_received()
    await publish_raw(
        amqp_url, event.model_dump_json().encode(), routing_key=event.routing_key, message_id="something-else"
    )
    [dead] = await get_all(amqp_url, "triage.on_call_received.dlq", expect=1)
    assert "message_id does not match event_id" in dead.headers[REASON_HEADER]


# --- outbox and relay -----------------------------------------------------------------------------


async def _stage(db: Database, events: list[CallReceived]) -> None:
    async with db.transaction() as session:
        for event in events:
            add_event(session, event)


async def _nothing_pending(db: Database) -> bool:
    async with db.read() as session:
        return await outbox.pending_count(session) == 0


@pytest.fixture
async def outbox_db(make_database_url: Callable[[str], str]) -> AsyncIterator[Database]:
    db = Database(make_database_url("outbox"), MESSAGING_TABLES)
    await prepare_schema(db)
    yield db
    await db.dispose()


async def test_rows_committed_before_a_crash_are_published_by_the_next_relay(
    amqp_url: str, outbox_db: Database
) -> None:
    await declare_topology(amqp_url)
    events = [call_received() for _ in range(20)]
    # The process committed its state and outbox rows, then died before any publish.
    await _stage(outbox_db, events)

    async with EventCapture(amqp_url, binding_key("call.received")) as capture:
        publisher = ConfirmingPublisher(amqp_url)
        relay = OutboxRelay(outbox_db, publisher, poll_interval=0.1)
        task = asyncio.create_task(relay.run())
        try:
            await capture.wait_for(20)
            # The relay marks rows after the broker confirms them, so the consumer can see a message
            # before its row is marked: wait for the marks rather than race them.
            await eventually(lambda: _nothing_pending(outbox_db), message="published rows were never marked")
        finally:
            task.cancel()
            await publisher.close()
    assert sorted(m.message_id or "" for m in capture.messages) == sorted(str(e.event_id) for e in events)


async def test_rows_claimed_by_a_relay_that_crashed_are_swept_after_its_lease(
    amqp_url: str, outbox_db: Database
) -> None:
    await declare_topology(amqp_url)
    events = [call_received() for _ in range(5)]
    await _stage(outbox_db, events)
    # A relay claims the rows and dies before publishing (its claim is never released).
    async with outbox_db.transaction() as session:
        claimed = await outbox.claim_batch(session, token=uuid.uuid4(), limit=100, lease=timedelta(seconds=6))
    assert len(claimed) == 5

    async with EventCapture(amqp_url, binding_key("call.received")) as capture:
        publisher = ConfirmingPublisher(amqp_url)
        survivor = OutboxRelay(outbox_db, publisher, poll_interval=0.1, lease=timedelta(seconds=30))
        assert await survivor.run_once() == 0  # still leased to the dead relay (6 s: slow machines too)
        task = asyncio.create_task(survivor.run())
        try:
            await capture.wait_for(5, timeout=30)
            await asyncio.sleep(0.5)  # nothing more should arrive
        finally:
            task.cancel()
            await publisher.close()
    assert sorted(m.message_id or "" for m in capture.messages) == sorted(str(e.event_id) for e in events)


async def test_two_relays_running_at_once_never_publish_one_row_twice(
    amqp_url: str, outbox_db: Database
) -> None:
    await declare_topology(amqp_url)
    events = [call_received() for _ in range(600)]
    await _stage(outbox_db, events)

    async with EventCapture(amqp_url, binding_key("call.received")) as capture:
        publishers = [ConfirmingPublisher(amqp_url) for _ in range(2)]
        relays = [
            OutboxRelay(outbox_db, p, batch_size=25, poll_interval=0.05, name=f"relay-{i}")
            for i, p in enumerate(publishers)
        ]
        tasks = [asyncio.create_task(r.run()) for r in relays]
        try:
            await capture.wait_for(600, timeout=60)
            await eventually(lambda: _nothing_pending(outbox_db), message="published rows were never marked")
            await asyncio.sleep(1.0)  # a double publish would arrive in this window
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for p in publishers:
                await p.close()
    ids = [m.message_id for m in capture.messages]
    assert len(ids) == 600
    assert len(set(ids)) == 600
    async with outbox_db.read() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert all(r.published_at is not None for r in rows)


async def test_unroutable_publish_is_a_failure_and_the_row_is_retried_until_routable(
    amqp_url: str, outbox_db: Database
) -> None:
    await declare_topology(amqp_url)  # exchange exists, but no queue is bound yet
    event = call_received()
    await _stage(outbox_db, [event])
    publisher = ConfirmingPublisher(amqp_url)
    relay = OutboxRelay(outbox_db, publisher)
    try:
        with pytest.raises(PublishError):
            await publisher.publish(b"{}", routing_key=event.routing_key, message_id="x")
        assert await relay.run_once() == 0
        async with outbox_db.read() as session:
            [row] = (await session.exec(select(OutboxMessage))).all()
        assert row.published_at is None
        assert row.last_error
        assert row.attempts == 1

        async with EventCapture(amqp_url, binding_key("call.received")) as capture:
            async with outbox_db.transaction() as session:  # skip the backoff for the test
                row.next_attempt_at = row.created_at
                await session.merge(row)
            assert await relay.run_once() == 1
            [message] = await capture.wait_for(1)
        assert message.message_id == str(event.event_id)
    finally:
        await publisher.close()


# --- retries and the delivery limit ---------------------------------------------------------------


class FlakyNote(SQLModel, table=True):
    __tablename__ = "test_flaky_notes"
    event_id: uuid.UUID = Field(primary_key=True)


@pytest.fixture
async def flaky_host(
    amqp_url: str, make_database_url: Callable[[str], str]
) -> AsyncIterator[tuple[ServiceHost, dict[str, int]]]:
    failures: dict[str, int] = {"transient_left": 2, "calls": 0}

    async def handler(session: Any, event: CallReceived) -> None:
        failures["calls"] += 1
        if event.data.reason == "permanent":
            raise PermanentFailure("cannot apply: rule X")
        if event.data.reason == "always":
            raise ConnectionError("dependency down")
        if failures["transient_left"] > 0:
            failures["transient_left"] -= 1
            raise ConnectionError("dependency briefly down")
        session.add(FlakyNote(event_id=event.event_id))

    host = probe_host(
        "flaky",
        amqp_url=amqp_url,
        database_url=make_database_url("flaky"),
        tables=[FlakyNote],
        subscriptions=[Subscription("on_call_received", (CallReceived,), handler)],
        delivery_limit=5,
    )
    await host.start()
    yield host, failures
    await host.stop()


async def test_transient_failure_is_retried_and_then_applied_once(
    flaky_host: tuple[ServiceHost, dict[str, int]], amqp_url: str
) -> None:
    host, failures = flaky_host
    event = call_received()
    await publish_event(amqp_url, event)
    await eventually(lambda: _inbox_size(host.db, 1), timeout=20)
    assert failures["calls"] == 3
    assert await _count(host.db, FlakyNote) == 1


async def test_permanent_failure_goes_to_the_dlq_at_once_with_its_reason(
    flaky_host: tuple[ServiceHost, dict[str, int]], amqp_url: str
) -> None:
    host, failures = flaky_host
    await publish_event(amqp_url, call_received(reason="permanent"))
    [dead] = await get_all(amqp_url, "flaky.on_call_received.dlq", expect=1)
    assert dead.headers[REASON_HEADER] == "cannot apply: rule X"
    assert failures["calls"] == 1
    assert await _count(host.db, InboxRecord) == 0  # the failed transaction recorded nothing


async def test_a_message_that_keeps_failing_is_dead_lettered_at_the_delivery_limit_not_looped(
    flaky_host: tuple[ServiceHost, dict[str, int]], amqp_url: str
) -> None:
    host, failures = flaky_host
    failures["transient_left"] = 0
    await publish_event(amqp_url, call_received(reason="always"))
    [dead] = await get_all(amqp_url, "flaky.on_call_received.dlq", expect=1, timeout=30)
    assert dead.headers[REASON_HEADER] == "gave up after 5 attempts: ConnectionError"
    assert failures["calls"] == 5
    # The consumer is still alive and applies the next message.
    good = call_received()
    await publish_event(amqp_url, good)
    await eventually(lambda: _inbox_size(host.db, 1))


def test_queue_spec_declares_a_quorum_queue_with_dead_lettering_and_a_delivery_limit() -> None:
    spec = QueueSpec("triage.on_call_received", ("call.received.v1.*.*",), delivery_limit=7)
    assert spec.arguments() == {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": "mhp.dead-letter",
        "x-dead-letter-routing-key": "triage.on_call_received",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
        "x-delivery-limit": 7,
    }
    assert spec.dead_letter_queue == "triage.on_call_received.dlq"
