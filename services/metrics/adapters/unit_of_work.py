"""SqlMetricsUnitOfWork: the archive and the projections over one session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Self

from sqlmodel.ext.asyncio.session import AsyncSession

from services.metrics.adapters.repositories import SqlArchive, SqlProjections
from shared.db import Database
from shared.unit_of_work import SqlUnitOfWork


class SqlMetricsUnitOfWork(SqlUnitOfWork):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.archive = SqlArchive(session)
        self.projections = SqlProjections(session)

    @classmethod
    @asynccontextmanager
    async def read(cls, db: Database) -> AsyncIterator[Self]:
        """For queries: a plain session, so reports never wait on (or hold) SQLite's write lock."""
        async with db.read() as session:
            yield cls(session)
