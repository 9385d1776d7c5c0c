"""What the journey benchmark runs on: a provisioned throw-away vhost, each service's database, the rota,
the raw aio-pika hop it is measured against, and the readings (percentiles, resident memory)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import aio_pika

from mhp.broker import VhostAdmin, with_vhost
from mhp.demo import DEMO_PCN, DEMO_PRACTICES
from mhp.platform import SERVICES
from mhp.provisioning import BrokerLogins, broker_ctl, deprovision, provision


def rota(start: date, weeks: int) -> list[dict[str, object]]:
    """Every practice, every weekday morning and afternoon: room for hundreds of journeys inside deadlines."""
    days = [start + timedelta(days=n) for n in range(7 * weeks) if (start + timedelta(days=n)).weekday() < 5]
    return [
        {"pcn_code": DEMO_PCN, "practice_ods": ods, "session_date": day.isoformat(), "period": period,
         "clinician": f"mhp.bench{index}", "modalities": ["telephone", "video", "face_to_face"],
         "room": "Room 1"}
        for day in days for period in ("am", "pm") for index, ods in enumerate(DEMO_PRACTICES)
    ]  # fmt: skip


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds, nearest rank; (nan, nan) for no samples."""
    if not samples:
        return float("nan"), float("nan")
    ordered = sorted(samples)

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000

    return rank(0.50), rank(0.99)


async def raw_hop(url: str, messages: int, in_flight: int, body: bytes) -> tuple[float, list[float]]:
    """Raw aio-pika, publisher and consumer on their own connections: (messages/s, each hop's latency)."""
    queue_name, sent, hops = f"bench.raw_hop.{uuid.uuid4().hex[:8]}", dict[str, float](), list[float]()
    done = asyncio.Event()
    async with await aio_pika.connect(url) as consumer, await aio_pika.connect(url) as publisher:
        channel = await consumer.channel()
        await channel.set_qos(prefetch_count=max(in_flight, 32))
        queue = await channel.declare_queue(queue_name, durable=True, arguments={"x-queue-type": "quorum"})

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            hops.append(time.perf_counter() - sent[str(message.message_id)])
            await message.ack()
            if len(hops) == messages:
                done.set()

        tag = await queue.consume(on_message)
        confirms = await publisher.channel(publisher_confirms=True)
        slots = asyncio.Semaphore(in_flight)

        async def one() -> None:
            async with slots:
                message_id = str(uuid.uuid4())
                sent[message_id] = time.perf_counter()
                persistent = aio_pika.DeliveryMode.PERSISTENT
                message = aio_pika.Message(body, delivery_mode=persistent, message_id=message_id)
                await confirms.default_exchange.publish(message, routing_key=queue_name)

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(messages)))
        await done.wait()
        elapsed = time.perf_counter() - started
        await queue.cancel(tag)
        await queue.delete(if_unused=False, if_empty=False)
    return messages / elapsed, hops


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (from /proc), in MB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
    return total / 1024


@contextlib.contextmanager
def benchmark_broker(
    url: str, node: VhostAdmin | None, run_dir: Path
) -> Iterator[tuple[str, BrokerLogins | None]]:
    """A throw-away vhost provisioned as `mhp up` provisions its broker (or the given URL as it is)."""
    if node is None:
        yield url, None
        return
    vhost = f"bench-{uuid.uuid4().hex[:8]}"
    node.add_vhost(vhost)
    vhost_url, ctl = with_vhost(url, vhost), broker_ctl(node)
    logins = None
    try:
        if ctl is not None:
            logins = provision(ctl, vhost_url, vhost=vhost, run_dir=run_dir, pcn_code=DEMO_PCN,
                               practices=DEMO_PRACTICES)  # fmt: skip
        else:
            node.allow_impersonation()  # a container: its guest stands in for every sender
        yield vhost_url, logins
    finally:
        if ctl is not None and logins is not None:
            deprovision(ctl, logins)
        node.delete_vhost(vhost)


@contextlib.contextmanager
def service_databases(postgres_url: str | None, run_dir: Path) -> Iterator[dict[str, str]]:
    """Each service's database URL: SQLite files in the run directory, or fresh PostgreSQL databases."""
    if postgres_url is None:
        yield {
            f"{s.env_prefix}DATABASE_URL": f"sqlite+aiosqlite:///{run_dir / f'{s.name}.db'}" for s in SERVICES
        }
        return
    import asyncpg

    admin = postgres_url.replace("postgresql+asyncpg://", "postgresql://")
    names = {s: f"mhp_bench_{s.name}_{uuid.uuid4().hex[:8]}" for s in SERVICES}

    async def each(statement: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            for name in names.values():
                await connection.execute(statement.format(name=name))
        finally:
            await connection.close()

    asyncio.run(each('CREATE DATABASE "{name}"'))
    base = admin.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0]
    try:
        yield {f"{s.env_prefix}DATABASE_URL": f"{base}/{name}" for s, name in names.items()}
    finally:
        asyncio.run(each('DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
