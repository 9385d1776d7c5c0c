"""The rota's repositories over one SQL session: sessions and slots (the slot claim is a compare-and-set)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.booking.adapters import mapping, tables
from services.booking.adapters.slot_search import find_slots
from services.booking.application.unit_of_work import SlotFilter, SlotTaken
from services.booking.domain.allocation import SlotQuery
from services.booking.domain.rota import RotaSession, SessionStatus, Slot, SlotKind, SlotStatus
from shared.contracts.codes import SessionPeriod


class SqlRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session


class SqlSessions(SqlRepository):
    async def exists(self, practice_ods: str, session_date: date, period: SessionPeriod) -> bool:
        found = await self.session.exec(
            select(tables.RotaSession.session_id).where(
                (tables.RotaSession.practice_ods == practice_ods)
                & (tables.RotaSession.session_date == session_date)
                & (tables.RotaSession.period == period.value)
            )
        )
        return found.first() is not None

    async def add(self, session: RotaSession) -> None:
        self.session.add(mapping.session_row(session))
        for slot in session.slots:
            self.session.add(mapping.slot_row(slot))

    async def get(self, session_id: uuid.UUID) -> RotaSession | None:
        row = await self.session.get(tables.RotaSession, session_id)
        return mapping.session_of(row) if row is not None else None

    async def save(self, session: RotaSession) -> None:
        row = await self.session.get(tables.RotaSession, session.session_id)
        assert row is not None
        row.status = session.status.value
        self.session.add(row)
        await self.session.flush()

    async def next_scheduled(self, practice_ods: str, starting_from: datetime, limit: int) -> list[uuid.UUID]:
        s = tables.RotaSession
        query = (
            select(s.session_id)
            .where(
                (col(s.practice_ods) == practice_ods)
                & (s.status == SessionStatus.SCHEDULED.value)
                & (col(s.starts_at) >= starting_from)
            )
            .order_by(col(s.starts_at))
            .limit(limit)
        )
        return list((await self.session.exec(query)).all())

    async def search(
        self,
        pcn_code: str,
        practice_ods: str | None,
        from_date: date | None,
        to_date: date | None,
        *,
        offset: int = 0,
        limit: int = 1000,
    ) -> list[RotaSession]:
        s = tables.RotaSession
        query = select(s).where(s.pcn_code == pcn_code)
        if practice_ods:
            query = query.where(s.practice_ods == practice_ods)
        if from_date:
            query = query.where(col(s.session_date) >= from_date)
        if to_date:
            query = query.where(col(s.session_date) <= to_date)
        # The id breaks ties so that pages neither repeat nor skip sessions starting together.
        query = query.order_by(col(s.starts_at), col(s.session_id)).offset(offset).limit(limit)
        return [mapping.session_of(r) for r in (await self.session.exec(query)).all()]


class SqlSlots(SqlRepository):
    async def find(self, query: SlotQuery) -> list[Slot] | None:
        rows = await find_slots(
            self.session,
            pcn_code=query.pcn_code,
            practice_ods=query.practice_ods,
            modality=query.modality,
            minutes=query.minutes,
            not_before=query.not_before,
            starts_before=query.starts_before,
            session_id=query.session_id,
            held=query.held,
        )
        return [mapping.slot_of(r) for r in rows] if rows else None

    async def claim(self, slot_ids: Sequence[uuid.UUID]) -> None:
        for slot_id in slot_ids:
            # Compare-and-set: on PostgreSQL a concurrent claimant blocks here, then sees 'booked'.
            result: Any = await self.session.exec(
                update(tables.Slot)
                .where(
                    (col(tables.Slot.slot_id) == slot_id) & (col(tables.Slot.status) == SlotStatus.FREE.value)
                )
                .values(status=SlotStatus.BOOKED.value)
            )
            if result.rowcount != 1:
                raise SlotTaken("slot already claimed")

    async def free(self, slot_ids: Sequence[uuid.UUID]) -> None:
        for slot_id in slot_ids:
            await self.session.exec(
                update(tables.Slot)
                .where(
                    (col(tables.Slot.slot_id) == slot_id)
                    & (col(tables.Slot.status) == SlotStatus.BOOKED.value)
                )
                .values(status=SlotStatus.FREE.value)
            )
        await self.session.flush()

    async def cancel_in_session(self, session_id: uuid.UUID) -> None:
        await self.session.exec(
            update(tables.Slot)
            .where(col(tables.Slot.session_id) == session_id)
            .values(status=SlotStatus.CANCELLED.value)
        )

    async def get(self, slot_id: uuid.UUID) -> Slot | None:
        row = await self.session.get(tables.Slot, slot_id)
        return mapping.slot_of(row) if row is not None else None

    async def starting_at(self, practice_ods: str, starts_at: datetime) -> Slot | None:
        query = select(tables.Slot).where(
            (tables.Slot.practice_ods == practice_ods) & (tables.Slot.starts_at == starts_at)
        )
        row = (await self.session.exec(query)).first()
        return mapping.slot_of(row) if row is not None else None

    async def search(self, where: SlotFilter) -> list[Slot]:
        s = tables.Slot
        query = _slot_query(select(s), where)
        query = query.order_by(col(s.starts_at), col(s.slot_id)).offset(where.offset).limit(where.limit)
        return [mapping.slot_of(r) for r in (await self.session.exec(query)).all()]

    async def count(self, where: SlotFilter) -> int:
        query = _slot_query(select(func.count()).select_from(tables.Slot), where)
        return int((await self.session.exec(query)).one())


def _slot_query(query: Any, where: SlotFilter) -> Any:
    s = tables.Slot
    query = query.where(s.kind == SlotKind.CLINICAL.value)
    if where.pcn_code:
        query = query.where(s.pcn_code == where.pcn_code)
    if where.practice_ods:
        query = query.where(s.practice_ods == where.practice_ods)
    if where.status:
        query = query.where(s.status == where.status.value)
    if where.starts_from:
        query = query.where(col(s.starts_at) >= where.starts_from)
    if where.starts_to:
        before = (
            col(s.starts_at) <= where.starts_to if where.to_inclusive else col(s.starts_at) < where.starts_to
        )
        query = query.where(before)
    if where.modality:
        query = query.where(s.modality == where.modality.value)
    return query
