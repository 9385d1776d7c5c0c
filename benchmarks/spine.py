"""How fast the event spine moves events, side by side with raw aio-pika on the same broker, same run.

    python -m benchmarks.spine --messages 5000      (broker: as the tests get one; RABBITMQ_URL wins)

Four measurements, each on a fresh queue in a throw-away vhost:
  raw      aio-pika, persistent, publisher confirms, 100 in flight, to a quorum queue (the baseline)
  raw hop  the same publishes consumed at once by aio-pika with manual acks and the services' prefetch
           (the fair baseline for the hop: the broker's own publish -> consume speed)
  relay    the outbox relay publishing committed rows (SQLite by default) to the same kind of queue
  hop      publish with the relay and consume with a ServiceHost (inbox + handler + ack), end to end
The machine is shared and noisy: read the ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, ExchangeType

from mhp.broker import acquire_broker, with_vhost
from shared.contracts.routing import EXCHANGE, binding_key
from shared.contracts.v1 import CallReceived
from shared.db import Database
from shared.logging import configure_logging
from shared.messaging.consumer import Subscription
from shared.messaging.outbox import add_event
from shared.messaging.publisher import ConfirmingPublisher
from shared.messaging.relay import OutboxRelay
from shared.messaging.senders import practice_user
from shared.messaging.topology import QueueSpec, declare_topology
from shared.migrations import prepare_schema
from shared.service import MESSAGING_TABLES, ServiceHost
from shared.settings import ServiceSettings
from tests.support.factories import PRACTICE, call_received

SENDER = practice_user(PRACTICE)
"""Every benchmark call is this practice's, published as its broker user."""


async def _sink_queue(url: str, name: str) -> None:
    await declare_topology(url, [QueueSpec(name, (binding_key("call.received"),))])


async def _wait_depth(url: str, queue: str, expected: int) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        while True:
            declared = await channel.declare_queue(queue, passive=True)
            result = declared.declaration_result
            if result is not None and (result.message_count or 0) >= expected:
                return
            await asyncio.sleep(0.02)


async def bench_raw(url: str, bodies: list[tuple[str, bytes]]) -> float:
    await _sink_queue(url, "bench.raw")
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(EXCHANGE, ExchangeType.TOPIC, durable=True)
        in_flight = asyncio.Semaphore(100)

        async def one(key: str, body: bytes) -> None:
            async with in_flight:
                await exchange.publish(
                    aio_pika.Message(
                        body,
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        message_id=str(uuid.uuid4()),
                        user_id=SENDER,
                    ),
                    routing_key=key,
                )

        started = time.perf_counter()
        await asyncio.gather(*(one(k, b) for k, b in bodies))
        elapsed = time.perf_counter() - started
    return len(bodies) / elapsed


async def bench_raw_hop(url: str, bodies: list[tuple[str, bytes]], prefetch: int) -> float:
    await _sink_queue(url, "bench.raw_hop")
    done = asyncio.Event()
    consumed = 0
    connection = await aio_pika.connect(url)
    async with connection:
        consuming = await connection.channel()
        await consuming.set_qos(prefetch_count=prefetch)
        queue = await consuming.declare_queue("bench.raw_hop", passive=True)

        async def on_message(message: AbstractIncomingMessage) -> None:
            nonlocal consumed
            await message.ack()
            consumed += 1
            if consumed == len(bodies):
                done.set()

        await queue.consume(on_message)
        started = time.perf_counter()
        publishing = asyncio.create_task(_publish_raw(connection, bodies))
        await done.wait()
        elapsed = time.perf_counter() - started
        await publishing
    return len(bodies) / elapsed


async def _publish_raw(connection: aio_pika.abc.AbstractConnection, bodies: list[tuple[str, bytes]]) -> None:
    channel = await connection.channel(publisher_confirms=True)
    exchange = await channel.get_exchange(EXCHANGE, ensure=False)
    in_flight = asyncio.Semaphore(100)

    async def one(key: str, body: bytes) -> None:
        async with in_flight:
            message = aio_pika.Message(
                body,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=str(uuid.uuid4()),
                user_id=SENDER,
            )
            await exchange.publish(message, routing_key=key)

    await asyncio.gather(*(one(k, b) for k, b in bodies))


async def _staged_db(path: Path, events: list[CallReceived]) -> Database:
    db = Database(f"sqlite+aiosqlite:///{path}", MESSAGING_TABLES)
    await prepare_schema(db)
    for start in range(0, len(events), 500):
        async with db.transaction() as session:
            for event in events[start : start + 500]:
                add_event(session, event)
    return db


async def bench_relay(url: str, events: list[CallReceived], workdir: Path) -> float:
    await _sink_queue(url, "bench.relay")
    db = await _staged_db(workdir / "relay.db", events)
    publisher = ConfirmingPublisher(url, user_id=SENDER)
    relay = OutboxRelay(db, publisher, batch_size=100, poll_interval=0.05)
    started = time.perf_counter()
    task = asyncio.create_task(relay.run())
    await _wait_depth(url, "bench.relay", len(events))
    elapsed = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await publisher.close()
    await db.dispose()
    return len(events) / elapsed


async def bench_hop(url: str, events: list[CallReceived], workdir: Path) -> float:
    all_applied = asyncio.Event()
    applied = 0

    async def handler(_session: Any, _event: CallReceived) -> None:
        nonlocal applied
        applied += 1
        if applied == len(events):
            all_applied.set()

    settings = ServiceSettings(rabbitmq_url=url, database_url=f"sqlite+aiosqlite:///{workdir}/hop.db")
    consumer_db = Database(settings.database_url, MESSAGING_TABLES)
    host = ServiceHost(
        name="bench",
        settings=settings,
        db=consumer_db,
        subscriptions=[Subscription("on_call_received", (CallReceived,), handler)],
    )
    await host.start()
    producer_db = await _staged_db(workdir / "producer.db", events)
    publisher = ConfirmingPublisher(url, user_id=SENDER)
    relay = OutboxRelay(producer_db, publisher, batch_size=100, poll_interval=0.05)
    started = time.perf_counter()
    task = asyncio.create_task(relay.run())
    await all_applied.wait()
    elapsed = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await publisher.close()
    await producer_db.dispose()
    await host.stop()
    return len(events) / elapsed


async def measure(url: str, messages: int) -> None:
    events = [call_received() for _ in range(messages)]
    bodies = [(e.routing_key, e.model_dump_json().encode()) for e in events]
    with tempfile.TemporaryDirectory() as tmp:
        raw = await bench_raw(url, bodies)
        raw_hop = await bench_raw_hop(url, bodies, ServiceSettings().prefetch)
        relay = await bench_relay(url, events, Path(tmp))
        hop = await bench_hop(url, events, Path(tmp))
    size = sum(len(b) for _, b in bodies) // len(bodies)
    print(f"{messages} events of ~{size} bytes, persistent, confirmed, quorum queues")
    print(f"  raw aio-pika publish      {raw:8.0f} msg/s   1.00x")
    print(f"  raw aio-pika hop          {raw_hop:8.0f} msg/s   {raw_hop / raw:.2f}x of raw")
    print(f"  outbox relay publish      {relay:8.0f} msg/s   {relay / raw:.2f}x of raw")
    print(
        f"  relay + consumer (1 hop)  {hop:8.0f} msg/s   {hop / raw:.2f}x of raw,"
        f" {hop / raw_hop:.2f}x of the raw hop (goal >= 0.5x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=5000)
    args = parser.parse_args()
    configure_logging("bench", level="WARNING")
    # The same broker the tests would get: RABBITMQ_URL, a container, a local node, or a private one.
    with tempfile.TemporaryDirectory() as run_dir, acquire_broker(Path(run_dir)) as (url, node):
        vhost = f"bench-{uuid.uuid4().hex[:8]}"
        if node is not None:
            node.add_vhost(vhost)
            # The calls are the practice's: the benchmark publishes them as its user (impersonation).
            node.allow_impersonation()
            url = with_vhost(url, vhost)
        try:
            asyncio.run(measure(url, args.messages))
        finally:
            if node is not None:
                node.delete_vhost(vhost)


if __name__ == "__main__":
    main()
