"""What keeps a service moving cases when its surroundings misbehave (issue 20), on a real broker and
database: a broken log stream, a graceful stop in the middle of a relay pass, a dropped broker
connection, and a delivery that stops moving."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import structlog
from prometheus_client import REGISTRY
from sqlmodel import Field, SQLModel, select

from shared.contracts.v1 import CallReceived
from shared.db import Database
from shared.logging import configure_logging
from shared.messaging import outbox
from shared.messaging.consumer import Subscription
from shared.messaging.outbox import add_event
from shared.messaging.publisher import ConfirmingPublisher
from shared.messaging.relay import OutboxRelay
from shared.migrations import prepare_schema
from shared.service import MESSAGING_TABLES, ServiceHost
from tests.support.amqp import eventually, publish_event
from tests.support.factories import call_received
from tests.support.probe import probe_host

pytestmark = pytest.mark.integration


class Applied(SQLModel, table=True):
    __tablename__ = "test_robust_applied"
    event_id: uuid.UUID = Field(primary_key=True)


def _host(amqp_url: str, database_url: str, handler: Any, **settings: Any) -> ServiceHost:
    subscription = Subscription("on_call_received", (CallReceived,), handler)
    return probe_host(
        "robust",
        amqp_url=amqp_url,
        database_url=database_url,
        tables=[Applied],
        subscriptions=[subscription],
        **settings,
    )


async def _record(session: Any, event: CallReceived) -> None:
    session.add(Applied(event_id=event.event_id))
    # The handler's own outgoing event goes through the outbox and the relay, which log as they go.
    add_event(session, event.caused(CallReceived, event.data, producer="RX4/robust"))


async def _applied(db: Database) -> set[uuid.UUID]:
    async with db.read() as session:
        return set((await session.exec(select(Applied.event_id))).all())


def _dropped() -> float:
    return REGISTRY.get_sample_value("mhp_log_lines_dropped_total") or 0.0


async def test_a_closed_log_stream_stops_neither_the_consumer_nor_the_relay(
    amqp_url: str, make_database_url: Callable[[str], str]
) -> None:
    stream = io.StringIO()
    structlog.reset_defaults()
    configure_logging("robust", level="DEBUG", json=True)
    structlog.configure(logger_factory=type(structlog.get_config()["logger_factory"])(stream))
    host = _host(amqp_url, make_database_url("robust"), _record, relay_poll_seconds=0.1)
    await host.start()
    try:
        before = _dropped()
        stream.close()  # every line from here on fails to write
        events = [call_received() for _ in range(5)]
        for event in events:
            await publish_event(amqp_url, event)

        async def all_applied() -> bool:
            return {e.event_id for e in events} <= await _applied(host.db)

        await eventually(all_applied, message="a broken log stream stopped the consumer")

        async def relayed() -> bool:
            async with host.db.read() as session:
                return await outbox.pending_count(session) == 0

        await eventually(relayed, message="a broken log stream stopped the relay")
        assert _dropped() > before
    finally:
        await host.stop()
        structlog.reset_defaults()


class SlowPublisher:
    """Confirms each message after a pause, so a stop can land in the middle of a pass."""

    def __init__(self) -> None:
        self.published: list[str] = []
        self.started = asyncio.Event()

    async def publish(self, body: bytes, *, routing_key: str, message_id: Any, **_: Any) -> None:
        self.started.set()
        await asyncio.sleep(0.5)
        self.published.append(str(message_id))


async def test_a_graceful_stop_lets_the_relay_finish_its_pass(
    make_database_url: Callable[[str], str],
) -> None:
    db = Database(make_database_url("outbox"), MESSAGING_TABLES)
    await prepare_schema(db)
    events = [call_received() for _ in range(5)]
    async with db.transaction() as session:
        for event in events:
            add_event(session, event)
    publisher = SlowPublisher()
    relay = OutboxRelay(db, publisher, poll_interval=0.1)
    task = asyncio.create_task(relay.run())
    await publisher.started.wait()
    relay.stop()  # mid-pass
    await asyncio.wait_for(task, timeout=10)
    assert sorted(publisher.published) == sorted(str(e.event_id) for e in events)
    async with db.read() as session:
        assert await outbox.pending_count(session) == 0  # marked published, not left leased
    await db.dispose()


async def test_the_publisher_reports_a_dropped_connection_at_once(amqp_url: str) -> None:
    publisher = ConfirmingPublisher(amqp_url)
    await publisher.connect()
    assert publisher.connected
    connection: Any = publisher._connection
    await connection.transport.connection.close()  # what a broker restart does to the socket
    try:
        await eventually(lambda: not publisher.connected, timeout=5, message="still reported connected")
        await eventually(lambda: publisher.connected, timeout=30, message="never reconnected")
    finally:
        await publisher.close()


async def test_a_delivery_that_stops_moving_makes_the_service_unready(
    amqp_url: str, make_database_url: Callable[[str], str]
) -> None:
    release = asyncio.Event()

    async def hang(session: Any, event: CallReceived) -> None:
        await release.wait()
        session.add(Applied(event_id=event.event_id))

    host = _host(amqp_url, make_database_url("robust"), hang, consumer_stuck_seconds=0.5)
    await host.start()
    try:
        event = call_received()
        await publish_event(amqp_url, event)
        await eventually(
            lambda: host.stuck_queues() == ["robust.on_call_received"], message="never reported stuck"
        )
        checks = await host.readiness()
        assert checks["ready"] is False
        assert checks["stuck_queues"] == ["robust.on_call_received"]
        age = REGISTRY.get_sample_value(
            "mhp_consumer_oldest_in_flight_seconds", {"queue": "robust.on_call_received"}
        )
        assert age is not None
        assert age > 0.5
        release.set()
        await eventually(lambda: host.stuck_queues() == [], message="never recovered")
        assert event.event_id in await _applied(host.db)
    finally:
        release.set()
        await host.stop()
