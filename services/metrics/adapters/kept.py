"""SQL for the kept figures: a fact's new contribution applied as its difference from the stored one
(counters added to, medians recomputed from their bucket's samples), and the reads of the reports."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, case, delete, func, insert, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from services.metrics.adapters.kept_tables import (
    KEPT_TABLES,
    ContributionRow,
    DeadlineCaseRow,
    FigureRow,
    PracticeRow,
    SampleRow,
    WaitingRow,
)
from services.metrics.domain.contributions import (
    Bucket,
    Contribution,
    DeadlineCase,
    WaitingEntry,
    changed_samples,
    count_delta,
    medians_of,
    totals,
)
from services.metrics.domain.figures import median

FIGURES: Table = FigureRow.__table__  # type: ignore[attr-defined]
SAMPLES: Table = SampleRow.__table__  # type: ignore[attr-defined]
CONTRIBUTIONS: Table = ContributionRow.__table__  # type: ignore[attr-defined]
DEADLINES: Table = DeadlineCaseRow.__table__  # type: ignore[attr-defined]
WAITING: Table = WaitingRow.__table__  # type: ignore[attr-defined]
PRACTICES: Table = PracticeRow.__table__  # type: ignore[attr-defined]
BATCH = 5000
WRITERS_LOCK = 0x6D68704B
"""The advisory lock key of metrics' writers (a constant of this service's own database)."""
INSTANTS = ("transition_at", "respond_by", "first_starts_at", "waiting_since")


def _encode(c: Contribution) -> str:
    def plain(obj: Any) -> dict[str, Any] | None:
        if obj is None:
            return None
        values = asdict(obj)
        return {k: _plain_value(v) for k, v in values.items()}

    return json.dumps(
        {
            "c": [[*b, v] for b, v in c.counts.items()],
            "s": [[*b, v] for b, v in c.samples.items()],
            "d": plain(c.deadline),
            "w": plain(c.waiting),
        },
        separators=(",", ":"),
    )


def _plain_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if isinstance(value, uuid.UUID) else value


def _typed(values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    out["call_id"] = uuid.UUID(str(out["call_id"]))
    for name in INSTANTS:
        if isinstance(out.get(name), str):
            out[name] = datetime.fromisoformat(out[name])
    return out


def _decode(payload: str) -> Contribution:
    raw = json.loads(payload)
    return Contribution(
        counts={(s, m, n): int(v) for s, m, n, v in raw["c"]},
        samples={(s, m, n): float(v) for s, m, n, v in raw["s"]},
        deadline=None if raw["d"] is None else DeadlineCase(**_typed(raw["d"])),
        waiting=None if raw["w"] is None else WaitingEntry(**_typed(raw["w"])),
    )


def _deadline_row(case_: DeadlineCase) -> dict[str, Any]:
    return asdict(case_)


def _waiting_row(entry: WaitingEntry) -> dict[str, Any]:
    return asdict(entry)


class SqlKeptFigures:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _conn(self) -> AsyncConnection:
        return await self._session.connection()

    @staticmethod
    def _insert(conn: AsyncConnection, table: Table) -> Any:
        return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)

    async def hold(self) -> None:
        conn = await self._conn()
        # SQLite has one writer at a time already; PostgreSQL's concurrent consumers queue here.
        if conn.dialect.name == "postgresql":
            await conn.execute(select(func.pg_advisory_xact_lock(WRITERS_LOCK)))

    async def contribution(self, source: str) -> Contribution | None:
        conn = await self._conn()
        row = (
            await conn.execute(select(CONTRIBUTIONS.c.payload).where(CONTRIBUTIONS.c.source == source))
        ).first()
        return None if row is None else _decode(row[0])

    async def note_practice(self, pcn: str, practice: str) -> None:
        conn = await self._conn()
        statement = self._insert(conn, PRACTICES).values(pcn_code=pcn, practice_ods=practice)
        await conn.execute(statement.on_conflict_do_nothing(index_elements=["pcn_code", "practice_ods"]))

    async def replace(self, source: str, pcn: str, old: Contribution | None, new: Contribution) -> None:
        conn = await self._conn()
        delta = count_delta(old, new)
        if delta:
            add = self._insert(conn, FIGURES)
            add = add.on_conflict_do_update(
                index_elements=["pcn_code", "scope", "month", "name"],
                set_={"value": FIGURES.c.value + add.excluded.value},
            )
            rows = [
                {"pcn_code": pcn, "scope": s, "month": m, "name": n, "value": v}
                for (s, m, n), v in delta.items()
            ]
            await conn.execute(add, rows)
        changed = changed_samples(old, new)
        if changed:
            await self._replace_samples(conn, source, pcn, changed, new)
        if (old.deadline if old else None) != new.deadline:
            await conn.execute(delete(DEADLINES).where(DEADLINES.c.call_id == _call_of(source)))
            if new.deadline is not None:
                await conn.execute(insert(DEADLINES).values(**_deadline_row(new.deadline)))
        if (old.waiting if old else None) != new.waiting:
            await conn.execute(delete(WAITING).where(WAITING.c.call_id == _call_of(source)))
            if new.waiting is not None:
                await conn.execute(insert(WAITING).values(**_waiting_row(new.waiting)))
        store = self._insert(conn, CONTRIBUTIONS).values(source=source, payload=_encode(new))
        store = store.on_conflict_do_update(
            index_elements=["source"], set_={"payload": store.excluded.payload}
        )
        await conn.execute(store)

    async def _replace_samples(
        self, conn: AsyncConnection, source: str, pcn: str, changed: set[Bucket], new: Contribution
    ) -> None:
        # A sample may move month (a later deadline): drop the source's samples of the changed names
        # first, then store the new ones, then recompute each touched bucket's median.
        keys = {(scope, name) for scope, _, name in changed}
        c = SAMPLES.c
        await conn.execute(
            delete(SAMPLES).where(c.source == source, tuple_(c.scope, c.name).in_(sorted(keys)))
        )
        rows = [
            {"source": source, "scope": s, "name": n, "pcn_code": pcn, "month": m, "value": v}
            for (s, m, n), v in new.samples.items()
            if (s, n) in keys
        ]
        if rows:
            await conn.execute(insert(SAMPLES), rows)
        for scope, month, name in sorted(changed):
            bucket = and_(c.pcn_code == pcn, c.scope == scope, c.month == month, c.name == name)
            values = [float(v) for (v,) in (await conn.execute(select(c.value).where(bucket))).all()]
            f = FIGURES.c
            at = and_(f.pcn_code == pcn, f.scope == scope, f.month == month, f.name == name)
            await conn.execute(delete(FIGURES).where(at))
            value = median(values)
            if value is not None:
                await conn.execute(
                    insert(FIGURES).values(pcn_code=pcn, scope=scope, month=month, name=name, value=value)
                )

    async def replace_all(
        self, contributions: Mapping[str, tuple[str, Contribution]], practices: Iterable[tuple[str, str]]
    ) -> None:
        conn = await self._conn()
        for table in KEPT_TABLES:
            await conn.execute(delete(table))
        for table, rows in kept_rows(contributions, practices).items():
            await _bulk(conn, table, rows)

    async def pcns(self, pcn: str | None = None) -> list[str]:
        conn = await self._conn()
        statement = select(PRACTICES.c.pcn_code).distinct().order_by(PRACTICES.c.pcn_code)
        if pcn is not None:
            statement = statement.where(PRACTICES.c.pcn_code == pcn)
        return list((await conn.execute(statement)).scalars())

    async def practices(self, pcn: str | None = None) -> list[tuple[str, str]]:
        conn = await self._conn()
        statement = select(PRACTICES.c.pcn_code, PRACTICES.c.practice_ods)
        if pcn is not None:
            statement = statement.where(PRACTICES.c.pcn_code == pcn)
        return [(p, o) for p, o in (await conn.execute(statement.order_by(PRACTICES.c.pcn_code))).all()]

    async def values(
        self,
        months: Collection[str],
        *,
        pcn: str | None = None,
        pcn_totals_only: bool = False,
        names: Collection[str] | None = None,
    ) -> dict[tuple[str, str, str], dict[str, float]]:
        f = FIGURES.c
        where: list[ColumnElement[bool]] = [f.month.in_(sorted(months))]
        if pcn is not None:
            where.append(f.pcn_code == pcn)
        if pcn_totals_only:
            where.append(f.scope == "")
        conn = await self._conn()
        out: dict[tuple[str, str, str], dict[str, float]] = {}
        if names is None:
            for p, s, m, n, v in (
                await conn.execute(select(f.pcn_code, f.scope, f.month, f.name, f.value).where(*where))
            ).all():
                out.setdefault((p, s, m), {})[n] = v
            return out
        # One row per scope-month with a column per name: a trust view over every PCN stays a few
        # thousand rows rather than one per figure.
        ordered = list(names)
        where.append(f.name.in_(ordered))
        columns = [func.max(case((f.name == n, f.value))) for n in ordered]
        statement = (
            select(f.pcn_code, f.scope, f.month, *columns)
            .where(*where)
            .group_by(f.pcn_code, f.scope, f.month)
        )
        for row in (await conn.execute(statement)).all():
            out[(row[0], row[1], row[2])] = {
                n: v for n, v in zip(ordered, row[3:], strict=True) if v is not None
            }
        return out

    async def unsettled(
        self, months: Collection[str], as_of: datetime, pcn: str | None = None
    ) -> list[DeadlineCase]:
        d = DEADLINES.c
        statement = select(DEADLINES).where(d.month.in_(sorted(months)), d.transition_at >= as_of)
        if pcn is not None:
            statement = statement.where(d.pcn_code == pcn)
        conn = await self._conn()
        return [DeadlineCase(**dict(r)) for r in (await conn.execute(statement)).mappings()]

    async def waiting(self, as_of: datetime, pcn: str | None = None) -> list[WaitingEntry]:
        w = WAITING.c
        statement = select(WAITING).where(or_(w.first_starts_at.is_(None), w.first_starts_at > as_of))
        if pcn is not None:
            statement = statement.where(w.pcn_code == pcn)
        conn = await self._conn()
        return [WaitingEntry(**dict(r)) for r in (await conn.execute(statement)).mappings()]


def kept_rows(
    contributions: Mapping[str, tuple[str, Contribution]], practices: Iterable[tuple[str, str]]
) -> dict[Table, list[dict[str, Any]]]:
    """Every kept row for these contributions (source -> (PCN, share)): a rebuild's and a backfill's."""
    by_pcn: dict[str, list[Contribution]] = {}
    for pcn, share in contributions.values():
        by_pcn.setdefault(pcn, []).append(share)
    figures: list[dict[str, Any]] = []
    for pcn, shares in by_pcn.items():
        counts, samples = totals(shares)
        for (s, m, n), v in [*counts.items(), *medians_of(samples).items()]:
            figures.append({"pcn_code": pcn, "scope": s, "month": m, "name": n, "value": v})
    shares_ = [share for _, share in contributions.values()]
    return {
        FIGURES: figures,
        SAMPLES: [
            {"source": key, "scope": s, "name": n, "pcn_code": pcn, "month": m, "value": v}
            for key, (pcn, share) in contributions.items()
            for (s, m, n), v in share.samples.items()
        ],
        DEADLINES: [_deadline_row(s.deadline) for s in shares_ if s.deadline is not None],
        WAITING: [_waiting_row(s.waiting) for s in shares_ if s.waiting is not None],
        CONTRIBUTIONS: [{"source": k, "payload": _encode(s)} for k, (_, s) in contributions.items()],
        PRACTICES: [{"pcn_code": p, "practice_ods": o} for p, o in sorted(set(practices))],
    }


def _call_of(source: str) -> uuid.UUID:
    """The call id of a call's source key (`call:<id>`): deadline and waiting cases are calls'."""
    return uuid.UUID(source.split(":", 1)[1])


async def _bulk(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        await conn.execute(insert(table), rows[start : start + BATCH])
