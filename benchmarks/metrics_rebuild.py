"""How fast `mhp metrics rebuild` replays the metrics archive into fresh projections, in events per second.

    python -m benchmarks.metrics_rebuild --events 1000000      (SQLite file under a temp dir by default)
    python -m benchmarks.metrics_rebuild --live 5000           (also: the live consumer on a real broker)

The archive is filled with synthetic redacted journeys (call received, triaged, booked, attended or DNA,
follow-ups, referrals, signposts, escalations, sessions) written straight into the archive table; the
timed part is `services.metrics.cli.rebuild`: read every archived event in order, fold it into its
fact, delete the old projections and bulk-insert the new ones, in one transaction.
With --live N, N events of generated journeys are queued on a real broker first, then a metrics
ServiceHost is started and timed until it has archived and projected all of them (one transaction per
event: inbox claim, archive row, one fact read and write).
The machine is shared and noisy: treat the number as an order of magnitude.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from services.metrics.adapters.tables import PROJECTIONS, ArchivedEventRow
from services.metrics.bootstrap import MIGRATIONS, build_database
from services.metrics.cli import rebuild
from services.metrics.settings import MetricsSettings
from shared.db import Database
from shared.migrations import prepare_schema

PCNS = {f"U{n:05d}": [f"Y{n:02d}{p:03d}" for p in range(4)] for n in range(10, 22)}


def synthetic_archive(
    count: int, seed: int = 1, pcns: dict[str, list[str]] | None = None
) -> Iterator[dict[str, Any]]:
    """`count` redacted archive rows shaped like real journeys, over `pcns` (PCN -> practices)."""
    directory = pcns or PCNS
    codes = list(directory)
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = 0
    while made < count:
        pcn = rng.choice(codes)
        practice = rng.choice(directory[pcn])
        corr = uuid.uuid4()
        at = start + timedelta(minutes=rng.randint(0, 300 * 24 * 60))
        call_id, appt_id = str(uuid.uuid4()), str(uuid.uuid4())
        respond_by = (at + timedelta(hours=72)).isoformat()
        journey: list[tuple[str, dict[str, Any]]] = [
            ("call.received", {"call_id": call_id, "channel": "telephone", "caller_urgency": "routine"}),
            (
                "call.triaged",
                {
                    "call_id": call_id,
                    "triage_code": "D",
                    "disposition": "appointment",
                    "respond_by": respond_by,
                },
            ),
            (
                "appointment.booked",
                {
                    "appointment_id": appt_id,
                    "call_id": call_id,
                    "starts_at": (at + timedelta(hours=rng.randint(2, 100))).isoformat(),
                    "minutes": 30,
                    "modality": "face_to_face",
                    "appointment_type": "initial_assessment",
                    "booked_by": "mhp_service",
                    "respond_by": respond_by,
                },
            ),
        ]
        if rng.random() < 0.8:
            journey.append(
                (
                    "appointment.attended",
                    {"appointment_id": appt_id, "attendance": "attended", "next_step": "discharge"},
                )
            )
        else:
            journey.append(("appointment.dna", {"appointment_id": appt_id, "attendance": "did_not_attend"}))
            journey.append(("dna.followed_up", {"appointment_id": appt_id, "outcome": "rebooked"}))
        if rng.random() < 0.2:
            journey.append(
                ("referral.made", {"referral_id": str(uuid.uuid4()), "destination": "talking_therapies"})
            )
        if rng.random() < 0.1:
            journey.append(
                (
                    "signpost.recorded",
                    {
                        "signpost_id": str(uuid.uuid4()),
                        "destination": "voluntary_sector",
                        "outcome": "redirected",
                    },
                )
            )
        if rng.random() < 0.05:
            journey.append(
                (
                    "case.escalated",
                    {"escalation_id": str(uuid.uuid4()), "target": "crisis_team", "reason": "risk"},
                )
            )
        if rng.random() < 0.2:
            day = at.date()
            journey.append(
                (
                    "session.scheduled",
                    {
                        "session_id": str(uuid.uuid4()),
                        "session_date": day.isoformat(),
                        "period": "am",
                        "starts_at": at.replace(hour=9, minute=0).isoformat(),
                        "ends_at": at.replace(hour=12, minute=30).isoformat(),
                        "modalities": ["telephone"],
                    },
                )
            )
        for i, (event_type, data) in enumerate(journey):
            if made >= count:
                return
            made += 1
            yield {
                "event_id": uuid.uuid4(),
                "event_type": event_type,
                "occurred_at": at + timedelta(minutes=10 * i),
                "correlation_id": corr,
                "pcn_code": pcn,
                "practice_ods": practice,
                "data": json.dumps(data, separators=(",", ":")),
            }


async def fill_archive(db: Database, events: int, pcns: dict[str, list[str]] | None = None) -> None:
    """Write `events` synthetic archive rows straight into the table, in batches of 20,000."""
    table = ArchivedEventRow.__table__  # type: ignore[attr-defined]
    batch: list[dict[str, Any]] = []
    async with db.engine.begin() as conn:
        for row in synthetic_archive(events, pcns=pcns):
            batch.append(row)
            if len(batch) == 20_000:
                await conn.execute(insert(table), batch)
                batch.clear()
        if batch:
            await conn.execute(insert(table), batch)


async def main(events: int, database_url: str) -> None:
    db = build_database(MetricsSettings(database_url=database_url))
    await prepare_schema(db, MIGRATIONS)
    started = time.perf_counter()
    await fill_archive(db, events)
    print(f"archive filled with {events:,} events in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    replayed = await rebuild(db)
    elapsed = time.perf_counter() - started
    async with db.engine.connect() as conn:
        from sqlalchemy import func, select

        sizes = {
            kind: (await conn.execute(select(func.count()).select_from(model.__table__))).scalar_one()  # type: ignore[attr-defined]
            for kind, model in PROJECTIONS.items()
        }
    await db.dispose()
    print(f"projections: {sizes}")
    print(f"rebuild: {replayed:,} events in {elapsed:.1f} s = {replayed / elapsed:,.0f} events/s")


async def measure_live(url: str, count: int, database_url: str) -> None:
    import aio_pika

    from services.metrics.bootstrap import build_host
    from services.metrics.cli import archive_size
    from shared.contracts.routing import EXCHANGE
    from shared.messaging.senders import user_for
    from shared.messaging.topology import declare_topology
    from tests.metrics import journeys as gen

    settings = MetricsSettings(rabbitmq_url=url, database_url=database_url)
    host = build_host(settings)
    await declare_topology(
        url, [s.queue_spec("metrics", settings.delivery_limit) for s in host.subscriptions]
    )
    events: list[Any] = []
    seed = 0
    while len(events) < count:
        journeys, sessions = gen.generate(seed=seed)
        events.extend(gen.events(journeys, sessions))
        seed += 1
    events = events[:count]
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(EXCHANGE)
        for start in range(0, count, 200):
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            e.model_dump_json().encode(),
                            message_id=str(e.event_id),
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                            # Each event as its own sender would send it (the node allows impersonation).
                            user_id=user_for(e, settings.organisation_code),
                        ),
                        routing_key=e.routing_key,
                    )
                    for e in events[start : start + 200]
                )
            )
    await host.start()
    # Timed from the end of start-up (connections, declarations), counting only events applied after it.
    started, already = time.perf_counter(), await archive_size(host.db)
    try:
        while await archive_size(host.db) < count:  # noqa: ASYNC110 - polling the database, not a flag
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - started
    finally:
        await host.stop()
    applied = count - already
    rate = applied / elapsed
    print(f"live consumer: {applied:,} queued events applied in {elapsed:.1f} s = {rate:,.0f} events/s")


def run_live(count: int, tmp: Path) -> None:
    from mhp.broker import acquire_broker, with_vhost
    from shared.logging import configure_logging

    configure_logging("metrics-bench", level="WARNING")

    with acquire_broker(tmp / "broker") as (url, node):
        vhost = f"bench-{uuid.uuid4().hex[:8]}"
        if node is not None:
            node.add_vhost(vhost)
            node.allow_impersonation()
            url = with_vhost(url, vhost)
        try:
            asyncio.run(measure_live(url, count, f"sqlite+aiosqlite:///{tmp / 'metrics-live.db'}"))
        finally:
            if node is not None:
                node.delete_vhost(vhost)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temp dir")
    parser.add_argument("--live", type=int, default=0, help="also time the live consumer on N events")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mhp-metrics-bench-") as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'metrics.db'}"
        if args.events:
            asyncio.run(main(args.events, url))
        if args.live:
            run_live(args.live, Path(tmp))
