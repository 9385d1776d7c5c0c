"""The SQL unit of work every service's adapter builds on: one transaction, its events in the outbox.

A service subclasses `SqlUnitOfWork` in `services/<name>/adapters/unit_of_work.py` and adds its
repositories; its application layer sees only the service's own Protocol port (`add_event` + repositories).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Self

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.audit import AuditRecord
from shared.contracts.envelope import Envelope
from shared.db import Database, call_after_commit
from shared.messaging.outbox import add_event


class SqlUnitOfWork:
    """Everything done through it commits together with its staged events, or nothing does."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add_event(self, event: Envelope[Any]) -> None:
        """Stage an event: published by the relay only if this unit of work commits."""
        add_event(self.session, event)

    def audit(self, record: AuditRecord) -> None:
        """Record an access in this transaction: a change and its audit row commit together or not at all."""
        self.session.add(record)

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` once this unit of work has committed (never if it rolls back)."""
        call_after_commit(self.session, hook)

    @classmethod
    @asynccontextmanager
    async def begin(cls, db: Database) -> AsyncIterator[Self]:
        """A unit of work in its own transaction (HTTP, CLI, watchdogs; consumers get one from the spine)."""
        async with db.transaction() as session:
            yield cls(session)

    @classmethod
    @asynccontextmanager
    async def reading(cls, db: Database) -> AsyncIterator[Self]:
        """A unit of work for queries: a read session outside the write transaction (and SQLite's write
        lock), nothing committed."""
        async with db.read() as session:
            yield cls(session)
