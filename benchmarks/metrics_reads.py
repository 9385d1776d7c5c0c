"""How fast metrics serves its reports from the kept figures, against recomputing them per request.

    python -m benchmarks.metrics_reads --events 1000000 --pcns 250
    python -m benchmarks.metrics_reads --events 10000000 --pcns 1250      (the issue's national year)
    MHP_TEST_POSTGRES_URL=postgresql://... python -m benchmarks.metrics_reads   (also on PostgreSQL)

An archive of synthetic journeys (`benchmarks.metrics_rebuild.synthetic_archive`) over `--pcns` PCNs of four
practices is written and rebuilt (`mhp metrics rebuild`: projections and kept figures). Then the real app
(`build_host(...).http_app()`, httpx ASGI transport, a trust manager's token from the embedded OIDC
provider) serves `--requests` of each: the monthly return of a random PCN, the trust view, and the trust
dashboard page; p50/p99 in milliseconds. The baseline, on the same archive in the same run, is today's
recompute-per-request path (`queries.recomputed_*`: every fact of every PCN read and folded per request),
timed as the query alone (no HTTP), `--baseline-requests` times, beside the kept path's query alone (so the
speed-up compares like with like); both answers are checked to be equal.
The machine is shared and noisy: read ratios, not absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks.metrics_rebuild import fill_archive
from services.metrics.adapters.unit_of_work import SqlMetricsUnitOfWork
from services.metrics.application import queries
from services.metrics.bootstrap import MIGRATIONS, build_database, build_host
from services.metrics.cli import rebuild
from services.metrics.settings import MetricsSettings
from shared.migrations import prepare_schema

AS_OF = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
"""Inside the archive's ten months (from 2026-01-01): some deadlines still open, some cases waiting."""
MONTH = "2026-10"
TRUST_MANAGER = "trust.manager"


def directory(pcns: int) -> dict[str, list[str]]:
    """PCN -> four practices, codes in the contracts' shapes (U + 5 digits, a letter + 5 digits)."""
    return {f"U{n:05d}": [f"{letter}{n:05d}" for letter in "ABCD"] for n in range(10, 10 + pcns)}


def write_directory(path: Path, pcns: dict[str, list[str]]) -> None:
    body = {
        "trust": {"code": "RMH", "name": "Benchmark trust"},
        "pcns": {pcn: {"practices": {p: {} for p in practices}} for pcn, practices in pcns.items()},
    }
    path.write_text(yaml.safe_dump(body))


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


async def timed(count: int, call: Callable[[], Awaitable[Any]]) -> list[float]:
    out: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        out.append((time.perf_counter() - started) * 1000)
    return out


async def fill(database_url: str, events: int, pcns: dict[str, list[str]]) -> None:
    db = build_database(MetricsSettings(database_url=database_url))
    try:
        await prepare_schema(db, MIGRATIONS)
        started = time.perf_counter()
        await fill_archive(db, events, pcns)
        filled = time.perf_counter() - started
        started = time.perf_counter()
        await rebuild(db)
        print(
            f"  archive: {events:,} events over {len(pcns):,} PCNs written in {filled:.0f} s, "
            f"rebuilt (projections + kept figures) in {time.perf_counter() - started:.0f} s"
        )
    finally:
        await db.dispose()


async def measure(database_url: str, label: str, args: argparse.Namespace, token: str) -> None:
    print(f"{label}:")
    pcns = directory(args.pcns)
    await fill(database_url, args.events, pcns)
    host = build_host(MetricsSettings(database_url=database_url), clock=lambda: AS_OF)
    rng = random.Random(7)
    codes = list(pcns)
    transport = httpx.ASGITransport(app=host.http_app())
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://metrics", headers=headers
        ) as client:

            async def get(path: str) -> httpx.Response:
                response = await client.get(path)
                response.raise_for_status()
                return response

            monthly = await timed(
                args.requests, lambda: get(f"/reports/monthly?pcn={rng.choice(codes)}&month={MONTH}")
            )
            trust = await timed(args.requests, lambda: get(f"/reports/trust?month={MONTH}"))
            page = await timed(args.requests, lambda: get(f"/?month={MONTH}"))
            kept_monthly = (await get(f"/reports/monthly?pcn={codes[0]}&month={MONTH}")).json()
            kept_trust = (await get(f"/reports/trust?month={MONTH}")).json()

        async def recompute_monthly() -> Any:
            async with SqlMetricsUnitOfWork.reading(host.db) as uow:
                return await queries.recomputed_monthly_report(uow, rng.choice(codes), MONTH, AS_OF)

        async def recompute_trust() -> Any:
            async with SqlMetricsUnitOfWork.reading(host.db) as uow:
                return await queries.recomputed_trust_report(uow, MONTH, AS_OF, pcns=set(codes))

        async def kept_monthly_query() -> Any:
            async with SqlMetricsUnitOfWork.reading(host.db) as uow:
                return await queries.monthly_report(uow, rng.choice(codes), MONTH, AS_OF)

        async def kept_trust_query() -> Any:
            async with SqlMetricsUnitOfWork.reading(host.db) as uow:
                return await queries.trust_report(uow, MONTH, AS_OF, pcns=set(codes))

        query_monthly = await timed(args.requests, kept_monthly_query)
        query_trust = await timed(args.requests, kept_trust_query)
        base_monthly = await timed(args.baseline_requests, recompute_monthly)
        base_trust = await timed(args.baseline_requests, recompute_trust)
        async with SqlMetricsUnitOfWork.reading(host.db) as uow:
            same_monthly = kept_monthly == await queries.recomputed_monthly_report(
                uow, codes[0], MONTH, AS_OF
            )
            same_trust = kept_trust == await queries.recomputed_trust_report(
                uow, MONTH, AS_OF, pcns=set(codes)
            )
    finally:
        await host.db.dispose()
    rows = [
        ("monthly return (HTTP)", monthly, query_monthly, base_monthly, 50),
        ("trust view (HTTP)", trust, query_trust, base_trust, 200),
        ("dashboard page (HTTP)", page, query_trust, base_trust, 500),
    ]
    print(
        f"  {'read':<24}{'p50 ms':>9}{'p99 ms':>9}{'goal':>7}  {'query p50':>10}"
        f"  {'baseline query p50 (recompute)':>31}  {'query speed-up':>14}"
    )
    for name, samples, query, baseline, goal in rows:
        p50, p99 = percentiles(samples)
        q50, _ = percentiles(query)
        b50, _ = percentiles(baseline)
        timings = f"{p50:9.1f}{p99:9.1f}{'<' + str(goal):>7}  {q50:10.1f}"
        print(f"  {name:<24}{timings}  {b50:31.1f}  {b50 / q50:13.0f}x")
    print(f"  kept == recomputed: monthly return {same_monthly}, trust view {same_trust}")
    print(
        "  (the dashboard's query columns are the trust view's: the page adds the alerts and the rendering)"
    )


async def postgres_database(admin: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    """A throw-away database on the server of `admin`, and how to drop it."""
    name = f"mhp_bench_reads_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(admin)
    engine = create_async_engine(
        urlunsplit(parts._replace(scheme="postgresql+asyncpg")), isolation_level="AUTOCOMMIT"
    )
    async with engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))

    async def drop() -> None:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()

    return urlunsplit(parts._replace(scheme="postgresql+asyncpg", path=f"/{name}")), drop


def main(args: argparse.Namespace) -> None:
    from mhp.idp.client import user_token
    from mhp.idp.server import EmbeddedProvider

    with tempfile.TemporaryDirectory(prefix="mhp-metrics-reads-") as tmp:
        organisations = Path(tmp) / "organisations.yaml"
        write_directory(organisations, directory(args.pcns))
        provider = EmbeddedProvider(state_dir=Path(tmp) / "idp", port=0, enabled=True)
        provider.start()
        os.environ["OIDC_ISSUER"] = provider.issuer
        os.environ["MHP_ORGANISATIONS_FILE"] = str(organisations)
        try:
            token = user_token(provider.issuer, TRUST_MANAGER)
            print(f"metrics reads: {args.events:,} events, {args.pcns:,} PCNs, month {MONTH}, as of {AS_OF}")
            asyncio.run(measure(f"sqlite+aiosqlite:///{Path(tmp) / 'metrics.db'}", "SQLite", args, token))
            if args.postgres_url:

                async def on_postgres() -> None:
                    url, drop = await postgres_database(args.postgres_url)
                    try:
                        await measure(url, "PostgreSQL", args, token)
                    finally:
                        await drop()

                asyncio.run(on_postgres())
        finally:
            provider.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--pcns", type=int, default=250)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--baseline-requests", type=int, default=3)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("MHP_TEST_POSTGRES_URL"),
        help="default: MHP_TEST_POSTGRES_URL",
    )
    main(parser.parse_args())
