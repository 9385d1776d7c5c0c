"""Referrals' escalation SQL: aggregates and history, compare-and-set saves, the ladder scan, inboxes."""

from __future__ import annotations

import uuid
from dataclasses import fields
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.referrals.adapters.escalation_tables import Escalation as EscalationRow
from services.referrals.adapters.escalation_tables import EscalationHistory
from services.referrals.domain.escalation import Escalation, EscalationState, HistoryEntry

_COLUMNS = [f.name for f in fields(Escalation) if f.name != "history"]


def _value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _columns(escalation: Escalation) -> dict[str, Any]:
    return {name: _value(getattr(escalation, name)) for name in _COLUMNS}


class SqlEscalationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _of(self, row: EscalationRow) -> Escalation:
        query = (
            select(EscalationHistory)
            .where(EscalationHistory.escalation_id == row.escalation_id)
            .order_by(col(EscalationHistory.seq))
        )
        history = [
            HistoryEntry(**{f.name: getattr(h, f.name) for f in fields(HistoryEntry)})
            for h in (await self.session.exec(query)).all()
        ]
        return Escalation(**{name: getattr(row, name) for name in _COLUMNS}, history=history)

    async def get(self, escalation_id: uuid.UUID) -> Escalation | None:
        row = await self.session.get(EscalationRow, escalation_id)
        return await self._of(row) if row is not None else None

    async def add(self, escalation: Escalation) -> None:
        self.session.add(EscalationRow(**_columns(escalation)))
        self._add_history(escalation, stored=0)

    async def save(self, escalation: Escalation) -> bool:
        values = _columns(escalation) | {"version": escalation.version + 1}
        result = await self.session.exec(
            update(EscalationRow)
            .where(
                (col(EscalationRow.escalation_id) == escalation.escalation_id)
                & (col(EscalationRow.version) == escalation.version)
            )
            .values(**{k: v for k, v in values.items() if k != "escalation_id"})
        )
        if result.rowcount != 1:
            return False
        stored = (
            await self.session.exec(
                select(col(EscalationHistory.seq)).where(
                    EscalationHistory.escalation_id == escalation.escalation_id
                )
            )
        ).all()
        self._add_history(escalation, stored=len(stored))
        escalation.version += 1
        return True

    def _add_history(self, escalation: Escalation, *, stored: int) -> None:
        for entry in escalation.history[stored:]:
            self.session.add(
                EscalationHistory(**{f.name: _value(getattr(entry, f.name)) for f in fields(entry)})
            )

    async def due_to_climb(self, now: datetime, limit: int) -> list[Escalation]:
        query = (
            select(EscalationRow)
            .where(
                (col(EscalationRow.state) == EscalationState.OPEN.value)
                & (col(EscalationRow.acknowledge_by) < now)
            )
            .order_by(col(EscalationRow.acknowledge_by), col(EscalationRow.escalation_id))
            .limit(limit)
        )
        return [await self._of(row) for row in (await self.session.exec(query)).all()]

    async def inbox(
        self,
        *,
        owner: str,
        targets: frozenset[str],
        pcns: frozenset[str],
        state: EscalationState | None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Escalation]:
        mine = col(EscalationRow.owner) == owner
        query = select(EscalationRow).where(
            (or_(mine, col(EscalationRow.target).in_(targets)) if targets else mine)
            & col(EscalationRow.pcn_code).in_(pcns)
        )
        if state is not None:
            query = query.where(EscalationRow.state == state.value)
        # The id breaks ties so that a page boundary never repeats or skips one.
        query = query.order_by(col(EscalationRow.acknowledge_by), col(EscalationRow.escalation_id))
        rows = (await self.session.exec(query.offset(offset).limit(limit))).all()
        return [await self._of(row) for row in rows]
