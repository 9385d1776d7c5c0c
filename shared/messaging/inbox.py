"""Inbox: which events each consumer has already applied, written in the same transaction as the effect."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db import UtcDateTime, utcnow


class InboxRecord(SQLModel, table=True):
    __tablename__ = "inbox"

    consumer: str = Field(primary_key=True, max_length=200)
    event_id: uuid.UUID = Field(primary_key=True)
    processed_at: datetime = Field(sa_type=UtcDateTime)


async def claim(session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
    """Record that `consumer` applies `event_id` in this transaction; False if it already has.

    One INSERT .. ON CONFLICT DO NOTHING: a concurrent duplicate waits on the key and then sees the
    conflict, so two deliveries of one event can never both apply it.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(InboxRecord)
        .values(consumer=consumer, event_id=event_id, processed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
    )
    result = await session.exec(statement)
    return bool(result.rowcount == 1)


async def claim_many(session: AsyncSession, consumer: str, event_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """`claim` for a batch in one statement: the ids this transaction now owns (not those already applied).

    The ids go in sorted, so two consumers claiming overlapping batches lock the keys in the same order
    and cannot deadlock on them.
    """
    if not event_ids:
        return set()
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    now = utcnow()
    rows = [{"consumer": consumer, "event_id": e, "processed_at": now} for e in sorted(set(event_ids))]
    statement = (
        insert(InboxRecord)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
        .returning(col(InboxRecord.event_id))
    )
    return set((await session.exec(statement)).scalars().all())


async def release(session: AsyncSession, consumer: str, event_id: uuid.UUID) -> None:
    """Undo this transaction's claim of an event whose effect was rolled back, so a retry can apply it."""
    await session.exec(
        delete(InboxRecord).where(
            (col(InboxRecord.consumer) == consumer) & (col(InboxRecord.event_id) == event_id)
        )
    )


async def already_processed(session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
    found = await session.exec(
        select(InboxRecord.event_id).where(
            (InboxRecord.consumer == consumer) & (InboxRecord.event_id == event_id)
        )
    )
    return found.first() is not None
