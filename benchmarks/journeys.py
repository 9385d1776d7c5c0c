"""Whole journeys through the four service processes, beside a raw aio-pika hop on the same broker, same run.

    python -m benchmarks.journeys --journeys 300 --concurrency 16 [--postgres-url postgresql://u:pw@h/postgres]

The platform runs as `mhp up` runs it: each service its own process (`python -m services.<name>`), on a
provisioned broker (each service and practice its own user) got the way the tests get one, SQLite files
(or throw-away PostgreSQL databases), the embedded OIDC provider. A journey: a practice system publishes a
call -> it shows on the MHP's worklist (polled over HTTP as the signed-in MHP) -> the MHP's decision over
HTTP -> `appointment.booked` (or `case.escalated` for A and B) delivered -> every event of the journey in
the metrics archive. Baseline: a raw aio-pika publish -> consume hop (persistent, confirmed, quorum queue,
manual acks, prefetch) with as many messages in flight as journeys. The machine is shared: read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from sqlalchemy import select
from sqlmodel import col

from benchmarks.journey_harness import benchmark_broker, percentiles, raw_hop, rota, rss_mb, service_databases
from mhp.acting import SignedInAs
from mhp.broker import VhostAdmin, acquire_broker, free_port
from mhp.demo import DEMO_MHP, DEMO_PCN, DEMO_PCN_MANAGER, DEMO_PRACTICES, synthetic_nhs_number
from mhp.idp.server import EmbeddedProvider
from mhp.platform import SERVICES, Platform
from mhp.practice_feed import PracticeFeed, impersonated_logins
from mhp.up import DEMO_ORGANISATIONS
from services.metrics.adapters.tables import ArchivedEventRow
from shared.contracts.codes import CallerUrgency, Channel, TriageCode
from shared.contracts.envelope import PatientIdentity
from shared.contracts.routing import binding_key
from shared.contracts.v1 import CallReceived, CallReceivedData
from shared.db import make_engine, utcnow

BOOKED, WAITLISTED, ESCALATED = "appointment.booked", "appointment.waitlisted", "case.escalated"
# Journey i is decided CODES[i % 20]: 10% A/B escalations (a B first, so even a tiny run has one), 5% C,
# 15% D, 70% E, so that the urgent ones fit one PCN's next two days; reasons without red flags and adults
# in scope, so every other call is booked (or, past the rota's capacity, waitlisted: counted apart).
CODES = [TriageCode(c) for c in "BEEAEDEEEEDECEEEEDEE"]
REASONS = ("low mood and poor sleep for a month", "anxiety attacks at work, asking for help")
REREAD = 500
"""Far more than the archive transactions one metrics process holds open at once (its prefetch)."""
STAGES = ("call -> worklist", "A/B decision -> case.escalated", "decision -> appointment.booked")


def _call(rng: random.Random) -> CallReceived:
    practice = rng.choice(DEMO_PRACTICES)
    born = utcnow().date() - timedelta(days=rng.randrange(20 * 365, 60 * 365))
    data = CallReceivedData(
        call_id=uuid.uuid4(),
        channel=Channel.TELEPHONE,
        patient=PatientIdentity(nhs_number=synthetic_nhs_number(rng), date_of_birth=born),
        reason=rng.choice(REASONS),
        caller_urgency=rng.choice(list(CallerUrgency)),
    )
    return CallReceived.create(
        data, producer=f"{practice}/reception", pcn_code=DEMO_PCN, practice_ods=practice,
        correlation_id=uuid.uuid4(),
    )  # fmt: skip


@dataclass
class Report:
    journeys: int
    archived: int
    booked: int
    waitlisted_codes: str
    """The triage code of each journey waitlisted (no slot inside its deadline), e.g. `CDD`."""
    escalated: int
    journeys_per_second: float
    stages: dict[str, tuple[float, float]]
    raw_hops_per_second: float
    raw_hop: tuple[float, float]
    rss_mb: dict[str, float] = field(default_factory=dict)
    failure: str | None = None
    """The first journey's error, when some did not get through."""

    def lines(self, concurrency: int, database: str) -> list[str]:
        raw50 = self.raw_hop[0]
        out = [
            f"{self.journeys} journeys, {concurrency} in flight, {database}; reached metrics: "
            f"{self.archived}/{self.journeys} (booked {self.booked}, "
            f"waitlisted {len(self.waitlisted_codes)} {self.waitlisted_codes}, "
            f"escalated A/B {self.escalated})",
            f"  raw aio-pika hop            {self.raw_hops_per_second:8.0f} msg/s      "
            f"p50 {raw50:7.1f} ms  p99 {self.raw_hop[1]:7.1f} ms   (baseline, 1.00x)",
            f"  whole journeys              {self.journeys_per_second:8.1f} journeys/s "
            f"({self.journeys_per_second / self.raw_hops_per_second:.4f}x of raw msg/s)",
        ]
        if self.failure:
            out.insert(1, f"  first failure: {self.failure}")
        for name, (p50, p99) in self.stages.items():
            out.append(
                f"  {name:<31} p50 {p50:8.1f} ms  p99 {p99:8.1f} ms   (p50 {p50 / raw50:6.1f}x raw hop)"
            )
        out += [f"  RSS {name:<10} {mb:6.1f} MB (goal < 150)" for name, mb in self.rss_mb.items()]
        return out


class Seen:
    """Moments things were first seen, keyed by id: journeys await them, the watchers resolve them."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._futures: dict[object, asyncio.Future[Any]] = {}

    def _future(self, key: object) -> asyncio.Future[Any]:
        return self._futures.setdefault(key, asyncio.get_running_loop().create_future())

    def mark(self, key: object, value: Any) -> None:
        if not self._future(key).done():
            self._future(key).set_result(value)

    async def wait(self, key: object, timeout: float) -> Any:
        try:
            return await asyncio.wait_for(asyncio.shield(self._future(key)), timeout)
        except TimeoutError:
            detail = f" {key[1]}" if isinstance(key, tuple) else ""
            raise TimeoutError(f"not {self.what}{detail} within {timeout:.0f}s") from None


async def watch_worklist(client: httpx.AsyncClient, triage_url: str, listed: Seen, every: float) -> None:
    """The signed-in MHP's worklist, polled (every page); each call marked when first listed."""
    while True:
        url: str | None = f"{triage_url}/worklist?pcn={DEMO_PCN}&limit=200"
        while url:
            answer = (await client.get(url)).raise_for_status()
            for entry in answer.json():
                listed.mark(uuid.UUID(entry["call_id"]), time.perf_counter())
            url = answer.links.get("next", {}).get("url")
        await asyncio.sleep(every)


async def watch_archive(database_url: str, archived: Seen, every: float) -> None:
    """New rows of the metrics archive, by `seq`; a journey's event marked once archived.

    On PostgreSQL a row can commit after a higher `seq` did (sequence values are taken before commit), so
    each poll reads again the last `REREAD` rows before the highest seen rather than only those above it.
    """
    engine, last = make_engine(database_url), 0
    seq_column = col(ArchivedEventRow.seq)
    columns = (seq_column, col(ArchivedEventRow.correlation_id), col(ArchivedEventRow.event_type))
    try:
        while True:
            async with engine.connect() as connection:
                rows = (await connection.execute(select(*columns).where(seq_column > last - REREAD))).all()
            for seq, correlation_id, event_type in rows:
                last = max(last, seq or 0)
                archived.mark((uuid.UUID(str(correlation_id)), event_type), time.perf_counter())
            await asyncio.sleep(every)
    finally:
        await engine.dispose()


async def measure(
    *, amqp_url: str, feed: PracticeFeed, platform: Platform, issuer: str, metrics_db: str,
    journeys: int, concurrency: int, raw_messages: int, timeout: float, seed: int,
) -> Report:  # fmt: skip
    rng = random.Random(seed)
    triage, booking = platform.service("triage").url, platform.service("booking").url
    async with httpx.AsyncClient(timeout=60, auth=SignedInAs(issuer, DEMO_PCN_MANAGER)) as manager:
        (
            await manager.post(f"{booking}/rota", json={"sessions": rota(utcnow().date(), 6)})
        ).raise_for_status()
    raw_rate, raw_hops = await raw_hop(
        amqp_url, raw_messages, concurrency, _call(rng).model_dump_json().encode()
    )

    listed, outcome, archived = Seen("on the worklist"), Seen("delivered"), Seen("archived")
    stages: dict[str, list[float]] = {name: [] for name in STAGES}
    results: list[tuple[TriageCode, str]] = []
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel()
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    for event_type in (BOOKED, WAITLISTED, ESCALATED):
        await queue.bind("mhp.events", binding_key(event_type, pcn_code=DEMO_PCN))

    async def on_event(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        event = json.loads(message.body)
        # A waitlisted case is escalated too: A/B journeys await their escalation, the others booking.
        kind = ESCALATED if event["event_type"] == ESCALATED else BOOKED
        outcome.mark((uuid.UUID(event["correlation_id"]), kind), (time.perf_counter(), event["event_type"]))

    await queue.consume(on_event, no_ack=True)  # an observer only: nothing to redeliver
    client = httpx.AsyncClient(timeout=60, auth=SignedInAs(issuer, DEMO_MHP))
    watchers = [
        asyncio.create_task(watch_worklist(client, triage, listed, 0.05)),
        asyncio.create_task(watch_archive(metrics_db, archived, 0.1)),
    ]
    slots = asyncio.Semaphore(concurrency)

    async def journey(call: CallReceived, code: TriageCode, modality: str) -> None:
        async with slots:
            started = time.perf_counter()
            await feed.publish(call)
            stages[STAGES[0]].append(await listed.wait(call.data.call_id, timeout) - started)
            body: dict[str, object] = {"triage_code": code.value}
            if code not in (TriageCode.A, TriageCode.B):
                body["modality"] = modality
            decided = time.perf_counter()
            answer = await client.post(f"{triage}/calls/{call.data.call_id}/decision", json=body)
            answer.raise_for_status()
            escalates = code in (TriageCode.A, TriageCode.B)
            seen_at, event_type = await outcome.wait(
                (call.correlation_id, ESCALATED if escalates else BOOKED), timeout
            )
            stage = STAGES[1] if event_type == ESCALATED else STAGES[2] if event_type == BOOKED else None
            if stage is not None:
                stages[stage].append(seen_at - decided)
            for archived_type in ("call.received", "call.triaged", event_type):
                await archived.wait((call.correlation_id, archived_type), timeout)
            results.append((code, event_type))

    # Each slot of a session is of one modality: spread the journeys over all three, as MHPs do.
    modalities = ("telephone", "video", "face_to_face")
    planned = [(_call(rng), CODES[i % len(CODES)], modalities[i % 3]) for i in range(journeys)]
    started = time.perf_counter()
    running = asyncio.ensure_future(
        asyncio.gather(*(journey(*plan) for plan in planned), return_exceptions=True)
    )
    try:
        # A watcher that fails (a 5xx from the worklist) would leave every journey to time out: stop at once.
        everything: list[asyncio.Future[Any]] = [running, *watchers]
        await asyncio.wait(everything, return_when=asyncio.FIRST_COMPLETED)
        if not running.done():
            running.cancel()
            await next(task for task in watchers if task.done())  # raises the watcher's error
        outcomes, elapsed = running.result(), time.perf_counter() - started
    finally:
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        await client.aclose()
        await connection.close()
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    if failures and not results:
        raise failures[0]  # nothing got through: the cause, not an empty report
    return Report(
        journeys=journeys,
        archived=len(results),
        booked=[t for _, t in results].count(BOOKED),
        waitlisted_codes="".join(sorted(c.value for c, t in results if t == WAITLISTED)),
        escalated=[t for _, t in results].count(ESCALATED),
        journeys_per_second=len(results) / elapsed,
        stages={name: percentiles(samples) for name, samples in stages.items()},
        raw_hops_per_second=raw_rate,
        raw_hop=percentiles(raw_hops),
        failure=f"{type(failures[0]).__name__}: {failures[0]}"[:200] if failures else None,
    )


def run(
    url: str, node: VhostAdmin | None, *, journeys: int, concurrency: int, raw_messages: int = 2000,
    postgres_url: str | None = None, timeout: float = 120.0, seed: int = 2026,
) -> Report:  # fmt: skip
    """Start the platform on `url`, run the journeys and the baseline, stop everything; the figures."""
    with (
        tempfile.TemporaryDirectory(prefix="mhp-bench-journeys-") as tmp,
        benchmark_broker(url, node, Path(tmp)) as (amqp_url, logins),
        service_databases(postgres_url, Path(tmp)) as databases,
    ):
        run_dir = Path(tmp)
        provider = EmbeddedProvider(run_dir / "idp", port=0, enabled=True).start()
        identity = {"OIDC_ISSUER": provider.issuer, "MHP_ORGANISATIONS_FILE": str(DEMO_ORGANISATIONS)}
        platform = Platform(
            amqp_url=amqp_url,
            run_dir=run_dir,
            ports={s.name: free_port() for s in SERVICES},
            extra_env={**identity, **databases},
            service_urls=logins.service_urls([s.name for s in SERVICES]) if logins else {},
        )
        feed = (
            logins.practice_logins(DEMO_PRACTICES)
            if logins
            else impersonated_logins(amqp_url, DEMO_PRACTICES)
        )
        try:
            platform.start(SERVICES)
            platform.wait_ready(timeout=180)

            async def measured() -> Report:
                async with PracticeFeed(feed) as practices:
                    return await measure(
                        amqp_url=amqp_url, feed=practices, platform=platform, issuer=provider.issuer,
                        metrics_db=databases["METRICS_DATABASE_URL"], journeys=journeys,
                        concurrency=concurrency, raw_messages=raw_messages, timeout=timeout, seed=seed,
                    )  # fmt: skip

            report = asyncio.run(measured())
            report.rss_mb = {s.spec.name: rss_mb(s.process.pid) for s in platform.running}
            return report
        finally:
            platform.stop()  # SIGTERM: each service drains and exits
            provider.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--journeys", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16, help="journeys in flight at once")
    parser.add_argument("--raw-messages", type=int, default=2000, help="messages of the raw baseline")
    parser.add_argument("--postgres-url", help="an admin URL: throw-away databases instead of SQLite files")
    args = parser.parse_args()
    from shared.logging import configure_logging

    configure_logging("bench", level="WARNING")
    # The broker the tests would get: RABBITMQ_URL, a container, a local node, or a private one (stopped).
    with (
        tempfile.TemporaryDirectory(prefix="mhp-bench-broker-") as broker_dir,
        acquire_broker(Path(broker_dir)) as (url, node),
    ):
        report = run(url, node, journeys=args.journeys, concurrency=args.concurrency,
                     raw_messages=args.raw_messages, postgres_url=args.postgres_url)  # fmt: skip
    database = "PostgreSQL" if args.postgres_url else "SQLite"
    print("\n".join(report.lines(args.concurrency, database)))


if __name__ == "__main__":
    main()
