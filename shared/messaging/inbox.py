"""Inbox: which events each consumer has already applied, written in the same transaction as the effect."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db import UtcDateTime, utcnow


class InboxRecord(SQLModel, table=True):
    __tablename__ = "inbox"

    consumer: str = Field(primary_key=True, max_length=200)
    event_id: uuid.UUID = Field(primary_key=True)
    processed_at: datetime = Field(sa_type=UtcDateTime)


async def already_processed(session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
    found = await session.exec(
        select(InboxRecord.event_id).where(
            (InboxRecord.consumer == consumer) & (InboxRecord.event_id == event_id)
        )
    )
    return found.first() is not None


async def record_processed(session: AsyncSession, consumer: str, event_id: uuid.UUID) -> None:
    """Insert the inbox row now, so a concurrent duplicate collides on the primary key before any effect."""
    session.add(InboxRecord(consumer=consumer, event_id=event_id, processed_at=utcnow()))
    await session.flush()
