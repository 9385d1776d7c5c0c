"""SQL for the archive and the projections. Core statements on the unit of work's connection: a few round
trips per event and no ORM objects for a million-row rebuild."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, case, delete, func, insert, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.metrics.adapters.tables import PROJECTIONS, ArchivedEventRow
from services.metrics.domain.events import ArchivedEvent
from services.metrics.domain.facts import (
    FACT_CLASSES,
    KEY_FIELD,
    AppointmentFact,
    EscalationFact,
    Fact,
    fact_from_row,
    fact_row,
)
from services.metrics.domain.kinds import FactKind

ARCHIVE: Table = ArchivedEventRow.__table__  # type: ignore[attr-defined]
TABLE_OF: dict[FactKind, Table] = {kind: model.__table__ for kind, model in PROJECTIONS.items()}  # type: ignore[attr-defined]
KIND_OF: dict[type[Any], FactKind] = {cls: kind for kind, cls in FACT_CLASSES.items()}
INSERT_BATCH = 5000

_UNREAD = uuid.UUID(int=0)
"""Projections never read an archived event's own or its episode's id: a replay skips decoding them."""


class SqlArchive:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, record: ArchivedEvent) -> None:
        conn = await self._session.connection()
        # The archive's columns are the record's fields; the redacted payload is stored as compact JSON.
        values = {f.name: getattr(record, f.name) for f in fields(record)}
        values["data"] = json.dumps(record.data, separators=(",", ":"))
        await conn.execute(insert(ARCHIVE).values(**values))

    async def count(self) -> int:
        conn = await self._session.connection()
        return int((await conn.execute(select(func.count()).select_from(ARCHIVE))).scalar_one())

    async def replay(self, chunk: int) -> AsyncIterator[list[ArchivedEvent]]:
        c = ARCHIVE.c
        conn = await self._session.connection()
        last = 0
        while True:
            rows = (
                await conn.execute(
                    select(c.seq, c.event_type, c.occurred_at, c.pcn_code, c.practice_ods, c.data)
                    .where(c.seq > last)
                    .order_by(c.seq)
                    .limit(chunk)
                )
            ).all()
            if not rows:
                return
            yield [
                ArchivedEvent(_UNREAD, event_type, occurred_at, _UNREAD, pcn, practice, json.loads(data))
                for _seq, event_type, occurred_at, pcn, practice, data in rows
            ]
            last = rows[-1][0]


class SqlProjections:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, kind: FactKind, key: uuid.UUID) -> Fact | None:
        table = TABLE_OF[kind]
        conn = await self._session.connection()
        row = (await conn.execute(select(table).where(table.c[KEY_FIELD[kind]] == key))).mappings().first()
        return None if row is None else fact_from_row(kind, dict(row))

    async def add(self, fact: Fact) -> None:
        conn = await self._session.connection()
        await conn.execute(insert(TABLE_OF[KIND_OF[type(fact)]]).values(**fact_row(fact)))

    async def update(self, fact: Fact) -> None:
        kind = KIND_OF[type(fact)]
        table, key_field = TABLE_OF[kind], KEY_FIELD[kind]
        values = fact_row(fact)
        conn = await self._session.connection()
        await conn.execute(update(table).where(table.c[key_field] == values[key_field]).values(**values))

    async def replace_all(self, facts: Iterable[Fact]) -> None:
        conn = await self._session.connection()
        for table in TABLE_OF.values():
            await conn.execute(delete(table))
        by_kind: dict[FactKind, list[dict[str, Any]]] = {kind: [] for kind in TABLE_OF}
        for fact in facts:
            by_kind[KIND_OF[type(fact)]].append(fact_row(fact))
        for kind, values in by_kind.items():
            for start in range(0, len(values), INSERT_BATCH):
                await conn.execute(insert(TABLE_OF[kind]), values[start : start + INSERT_BATCH])

    async def facts(self, pcn: str | None = None) -> list[Fact]:
        conn = await self._session.connection()
        out: list[Fact] = []
        for kind, table in TABLE_OF.items():
            statement = select(table)
            if pcn is not None:
                statement = statement.where(table.c.pcn_code == pcn)
            out.extend(fact_from_row(kind, dict(r)) for r in (await conn.execute(statement)).mappings())
        return out

    async def recent_escalations(self, limit: int) -> list[EscalationFact]:
        table = TABLE_OF[FactKind.ESCALATION]
        conn = await self._session.connection()
        # Raised ones only: an acknowledgement that overtook its escalation has no raising time yet.
        raised = select(table).where(table.c.occurred_at.is_not(None))
        rows = await conn.execute(raised.order_by(table.c.occurred_at.desc()).limit(limit))
        return [fact_from_row(FactKind.ESCALATION, dict(r)) for r in rows.mappings()]

    async def appointments_of_call(self, call_id: uuid.UUID) -> list[AppointmentFact]:
        table = TABLE_OF[FactKind.APPOINTMENT]
        conn = await self._session.connection()
        rows = await conn.execute(select(table).where(table.c.call_id == call_id))
        return [fact_from_row(FactKind.APPOINTMENT, dict(r)) for r in rows.mappings()]

    async def open_escalation_figures(
        self, as_of: datetime, pcn: str | None = None
    ) -> dict[str, dict[str, Any]]:
        # `escalation_figures.open_escalations`, summed by the database: open escalations only add up.
        c = TABLE_OF[FactKind.ESCALATION].c
        unacknowledged = c.acknowledged_at.is_(None)
        overdue = and_(unacknowledged, c.acknowledge_by.is_not(None), c.acknowledge_by < as_of)
        statement = (
            select(
                c.pcn_code,
                func.count(),
                func.sum(case((unacknowledged, 1), else_=0)),
                func.sum(case((overdue, 1), else_=0)),
                func.sum(case((c.rung > 0, 1), else_=0)),
                func.max(c.rung),
            )
            .where(c.resolved_at.is_(None))
            .group_by(c.pcn_code)
        )
        if pcn is not None:
            statement = statement.where(c.pcn_code == pcn)
        conn = await self._session.connection()
        return {
            p: {
                "open": int(n),
                "unacknowledged": int(unacked),
                "overdue": int(late),
                "climbed": int(climbed),
                "highest_rung": None if rung is None else int(rung),
            }
            for p, n, unacked, late, climbed, rung in (await conn.execute(statement)).all()
        }
