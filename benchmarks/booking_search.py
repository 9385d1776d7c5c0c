"""Benchmark: booking's earliest-slot search on a national-size rota (not a test).

Builds a SQLite database with booking's own schema: by default 1,250 PCNs x 6 practices x 2 sessions a
working day x 52 weeks (about 3.9 million sessions, 27 million slots), most near-term slots already
booked, then times the search booking runs for each triaged call (home practice first, then the PCN)
through the service's own `find_slots`, and reports p50/p99.

    .venv/bin/python benchmarks/booking_search.py                 # national size (~6 GB, minutes to load)
    .venv/bin/python benchmarks/booking_search.py --pcns 50       # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine

from services.booking.adapters.slot_search import find_slots
from services.booking.adapters.tables import TABLES, Slot
from services.booking.domain.rota import SlotKind, plan_slots
from services.booking.entrypoints.rota_file import RotaEntry
from shared.contracts.codes import Modality, SessionPeriod
from shared.db import Database

FIRST_MONDAY = date(2027, 1, 4)
MODALITY_CYCLE = (Modality.TELEPHONE, Modality.VIDEO, Modality.FACE_TO_FACE)
Row = tuple[str | int | None, ...]
SEARCH_INDEXES = (
    "ix_booking_slots_practice_search",
    "ix_booking_slots_pcn_search",
    "ix_booking_sessions_next",
)


def _fmt(instant: datetime) -> str:
    # SQLAlchemy's SQLite DATETIME storage format (UtcDateTime stores naive UTC).
    return instant.strftime("%Y-%m-%d %H:%M:%S.%f")


def working_days(weeks: int) -> list[date]:
    return [FIRST_MONDAY + timedelta(weeks=w, days=d) for w in range(weeks) for d in range(5)]


def practices_of(pcn: int) -> list[str]:
    return [f"Y{pcn * 6 + i:05d}" for i in range(6)]


def build(path: Path, *, pcns: int, weeks: int, booked_weeks: int, seed: int) -> tuple[int, int]:
    """Create booking's schema at `path` and bulk-load the rota; returns (sessions, slots)."""
    engine = create_engine(f"sqlite:///{path}")
    from sqlmodel import SQLModel

    SQLModel.metadata.create_all(engine, tables=list(TABLES))
    engine.dispose()
    conn = sqlite3.connect(path)
    conn.executescript(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
        " PRAGMA cache_size=-2000000; PRAGMA temp_store=MEMORY;"
    )
    # Load first, index after: building an index once is far cheaper than maintaining it row by row.
    for name in SEARCH_INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    days = working_days(weeks)
    booked_until = FIRST_MONDAY + timedelta(weeks=booked_weeks)
    slot_times = {
        (day, period): plan_slots(
            RotaEntry(
                pcn_code="U00001",
                practice_ods="Y00001",
                session_date=day,
                period=period,
                clinician="mhp",
                modalities=(Modality.TELEPHONE,),
            )
        )
        for day in days
        for period in SessionPeriod
    }
    rng = random.Random(seed)
    counter = iter(range(1, 1 << 62))

    def sessions_and_slots() -> Iterator[tuple[Row, list[Row]]]:
        for pcn in range(1, pcns + 1):
            pcn_code = f"U{pcn:05d}"
            for practice in practices_of(pcn):
                for day in days:
                    for period in SessionPeriod:
                        plans = slot_times[(day, period)]
                        session_id = uuid.UUID(int=next(counter)).hex
                        session_row: Row = (
                            session_id,
                            pcn_code,
                            practice,
                            day.isoformat(),
                            period.value,
                            _fmt(plans[0].starts_at),
                            _fmt(plans[-1].ends_at),
                            "mhp",
                            "telephone,video,face_to_face",
                            "Room 1",
                            "scheduled",
                        )
                        busy = day < booked_until
                        slots: list[Row] = []
                        for plan in plans:
                            clinical = plan.kind == SlotKind.CLINICAL
                            # Near-term demand: ~85% of the first weeks' clinical slots already booked.
                            status = "booked" if clinical and busy and rng.random() < 0.85 else "free"
                            slots.append(
                                (
                                    uuid.UUID(int=next(counter)).hex,
                                    session_id,
                                    pcn_code,
                                    practice,
                                    plan.seq,
                                    _fmt(plan.starts_at),
                                    _fmt(plan.ends_at),
                                    plan.kind,
                                    MODALITY_CYCLE[plan.seq % 3].value if clinical else None,
                                    status,
                                )
                            )
                        yield session_row, slots

    n_sessions = n_slots = 0
    session_batch: list[Row] = []
    slot_batch: list[Row] = []
    started = time.perf_counter()

    def flush() -> None:
        conn.executemany("INSERT INTO booking_sessions VALUES (?,?,?,?,?,?,?,?,?,?,?)", session_batch)
        conn.executemany(
            "INSERT INTO booking_slots (slot_id, session_id, pcn_code, practice_ods, seq, starts_at, ends_at,"
            " kind, modality, status) VALUES (?,?,?,?,?,?,?,?,?,?)",
            slot_batch,
        )
        session_batch.clear()
        slot_batch.clear()

    for session_row, slots in sessions_and_slots():
        session_batch.append(session_row)
        slot_batch.extend(slots)
        n_sessions += 1
        n_slots += len(slots)
        if len(slot_batch) >= 200_000:
            flush()
            if n_sessions % 500_000 < 30_000:
                took = time.perf_counter() - started
                print(f"  loaded {n_sessions:,} sessions, {n_slots:,} slots ({took:.0f}s)")
    flush()
    conn.commit()
    print(f"  rows loaded in {time.perf_counter() - started:.0f}s; building the search indexes ...")
    conn.close()
    engine = create_engine(f"sqlite:///{path}")
    for table in TABLES:
        for index in table.indexes:
            if index.name in SEARCH_INDEXES:
                index.create(engine)
    with engine.connect() as sa_conn:
        sa_conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    print(f"  ready in {time.perf_counter() - started:.0f}s")
    return n_sessions, n_slots


async def search(path: Path, *, pcns: int, weeks: int, queries: int, seed: int) -> dict[str, list[float]]:
    """Time booking's search as the call.triaged handler runs it: home practice first, then the PCN."""
    db = Database(f"sqlite+aiosqlite:///{path}", list(TABLES))
    rng = random.Random(seed + 1)
    horizon = (weeks - 5) * 7 * 24
    timings: dict[str, list[float]] = {"all": [], "30min": [], "60min": [], "pcn_fallback": []}
    found = 0
    async with db.read() as session:
        await find_slots(  # warm the connection
            session,
            pcn_code="U00001",
            practice_ods="Y00006",
            modality=None,
            minutes=30,
            not_before=datetime(2027, 1, 4, tzinfo=UTC),
            starts_before=None,
        )
        for _ in range(queries):
            pcn = rng.randint(1, pcns)
            practice = rng.choice(practices_of(pcn))
            now = datetime(2027, 1, 4, 7, tzinfo=UTC) + timedelta(hours=rng.randint(0, max(1, horizon)))
            window = rng.choice([timedelta(hours=24), timedelta(hours=72), timedelta(weeks=4)])
            minutes = 60 if rng.random() < 0.1 else 30
            modality = rng.choice([None, *MODALITY_CYCLE])
            started = time.perf_counter()
            slots: list[Slot] | None = None
            for where in (practice, None):
                slots = await find_slots(
                    session,
                    pcn_code=f"U{pcn:05d}",
                    practice_ods=where,
                    modality=modality,
                    minutes=minutes,
                    not_before=now,
                    starts_before=now + window,
                )
                if slots:
                    break
            elapsed = (time.perf_counter() - started) * 1000
            timings["all"].append(elapsed)
            timings[f"{minutes}min"].append(elapsed)
            if slots and slots[0].practice_ods != practice:
                timings["pcn_fallback"].append(elapsed)
            found += bool(slots)
    await db.dispose()
    print(f"  {found} of {queries} searches found a slot")
    return timings


def explain(path: Path) -> None:
    conn = sqlite3.connect(path)
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM booking_slots WHERE status='free' AND kind='clinical' "
        "AND starts_at >= '2027-03-01' AND practice_ods='Y00007' AND starts_at < '2027-03-04' "
        "AND modality='video' ORDER BY starts_at LIMIT 1"
    ).fetchall()
    print("  plan (practice search):", "; ".join(row[-1] for row in plan))
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM booking_slots a JOIN booking_slots b ON b.session_id = a.session_id"
        " AND b.seq = a.seq + 1 AND b.status = 'free' AND b.kind = 'clinical' WHERE a.status='free'"
        " AND a.kind='clinical' AND a.starts_at >= '2027-03-01' AND a.pcn_code='U00007'"
        " AND a.starts_at < '2027-03-04' ORDER BY a.starts_at LIMIT 1"
    ).fetchall()
    print("  plan (PCN search, 60 minutes):", "; ".join(row[-1] for row in plan))
    conn.close()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pcns", type=int, default=1250)
    parser.add_argument("--weeks", type=int, default=52, help="working weeks on the rota (5 days each)")
    parser.add_argument("--booked-weeks", type=int, default=8, help="weeks whose slots are mostly booked")
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", type=Path, default=None, help="reuse (or keep) the database at this path")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="booking-bench-") as tmp:
        path = args.db or Path(tmp) / "booking.db"
        if not path.exists():
            print(f"building rota: {args.pcns} PCNs x 6 practices x 2 sessions x {args.weeks * 5} days")
            n_sessions, n_slots = build(
                path, pcns=args.pcns, weeks=args.weeks, booked_weeks=args.booked_weeks, seed=args.seed
            )
            print(f"  {n_sessions:,} sessions, {n_slots:,} slots, {path.stat().st_size / 1e9:.1f} GB")
        explain(path)
        timings = asyncio.run(
            search(path, pcns=args.pcns, weeks=args.weeks, queries=args.queries, seed=args.seed)
        )
    print(f"earliest-slot search, {args.queries} calls (ms):")
    for name, values in timings.items():
        print(
            f"  {name:>13}: n={len(values):5d}  p50={pct(values, 0.5):7.2f}  p99={pct(values, 0.99):7.2f}"
            f"  mean={statistics.fmean(values) if values else float('nan'):7.2f}"
        )


if __name__ == "__main__":
    main()
