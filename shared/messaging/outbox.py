"""Transactional outbox: events are written in the same transaction as the state change they announce.

The relay (relay.py) later publishes them. Rows are claimed with a lease so that concurrent relays
never publish one row at once, and a row whose relay crashed is picked up again when its lease expires.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Index, LargeBinary, Text, func
from sqlmodel import Field, SQLModel, col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.contracts.envelope import Contract, Envelope
from shared.db import OUTBOX_STAGED, UtcDateTime, utcnow


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "published_at", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: uuid.UUID = Field(unique=True)
    event_type: str
    correlation_id: uuid.UUID
    routing_key: str
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_type=UtcDateTime)
    next_attempt_at: datetime = Field(sa_type=UtcDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    claim_token: uuid.UUID | None = None
    claimed_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))


def add_event(session: AsyncSession, event: Envelope[Any]) -> None:
    """Stage an event for publication; it is committed (or rolled back) with the caller's transaction."""
    now = utcnow()
    session.info[OUTBOX_STAGED] = True
    session.add(
        OutboxMessage(
            event_id=event.event_id,
            event_type=event.event_type,
            correlation_id=event.correlation_id,
            routing_key=event.routing_key,
            body=event.model_dump_json().encode(),
            created_at=now,
            next_attempt_at=now,
        )
    )


def add_events(session: AsyncSession, *events: Envelope[Contract]) -> None:
    for item in events:
        add_event(session, item)


@dataclass(frozen=True)
class ClaimedMessage:
    id: int
    event_id: uuid.UUID
    event_type: str
    correlation_id: uuid.UUID
    routing_key: str
    body: bytes
    attempts: int


async def claim_batch(
    session: AsyncSession, *, token: uuid.UUID, limit: int, lease: timedelta
) -> list[ClaimedMessage]:
    """Claim up to `limit` due, unclaimed (or lease-expired) rows for one relay pass.

    The WHERE clause is re-checked on the row being updated, so two relays racing for one row cannot
    both win: on PostgreSQL the loser re-reads the committed claim, on SQLite writers are serialised.
    """
    now = utcnow()
    claimable = (
        col(OutboxMessage.published_at).is_(None)
        & (col(OutboxMessage.next_attempt_at) <= now)
        & (col(OutboxMessage.claimed_until).is_(None) | (col(OutboxMessage.claimed_until) < now))
    )
    candidates = select(OutboxMessage.id).where(claimable).order_by(col(OutboxMessage.id)).limit(limit)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(candidates.scalar_subquery()) & claimable)
        .values(
            claim_token=token,
            claimed_until=now + lease,
            attempts=col(OutboxMessage.attempts) + 1,
        )
        .returning(
            col(OutboxMessage.id),
            col(OutboxMessage.event_id),
            col(OutboxMessage.event_type),
            col(OutboxMessage.correlation_id),
            col(OutboxMessage.routing_key),
            col(OutboxMessage.body),
            col(OutboxMessage.attempts),
        )
    )
    rows = (await session.exec(statement)).all()
    return sorted((ClaimedMessage(*row) for row in rows), key=lambda m: m.id)


async def mark_published(session: AsyncSession, *, token: uuid.UUID, ids: list[int]) -> int:
    """Mark rows published, but only those this relay pass still holds (its lease not taken over)."""
    if not ids:
        return 0
    result = await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids) & (col(OutboxMessage.claim_token) == token))
        .values(published_at=utcnow(), claim_token=None, claimed_until=None, last_error=None)
    )
    return int(result.rowcount)


async def release_failed(
    session: AsyncSession, *, token: uuid.UUID, failures: dict[int, str], retry_at: dict[int, datetime]
) -> None:
    """Give failed rows back with a backoff before their next attempt."""
    for row_id, error in failures.items():
        await session.exec(
            update(OutboxMessage)
            .where((col(OutboxMessage.id) == row_id) & (col(OutboxMessage.claim_token) == token))
            .values(
                claim_token=None,
                claimed_until=None,
                next_attempt_at=retry_at[row_id],
                last_error=error[:500],
            )
        )


async def pending_count(session: AsyncSession) -> int:
    result = await session.exec(
        select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.published_at).is_(None))
    )
    return int(result.one())


async def purge_published(session: AsyncSession, *, older_than: timedelta) -> int:
    """Delete rows published long enough ago that no one will ask for them again."""
    cutoff = utcnow() - older_than
    result = await session.exec(
        delete(OutboxMessage).where(
            col(OutboxMessage.published_at).is_not(None) & (col(OutboxMessage.published_at) < cutoff)
        )
    )
    return int(result.rowcount)
