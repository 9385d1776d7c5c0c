"""SqlMetricsUnitOfWork: the archive and the projections over one session."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.metrics.adapters.kept import SqlKeptFigures
from services.metrics.adapters.repositories import SqlArchive, SqlProjections
from shared.unit_of_work import SqlUnitOfWork


class SqlMetricsUnitOfWork(SqlUnitOfWork):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.archive = SqlArchive(session)
        self.projections = SqlProjections(session)
        self.kept = SqlKeptFigures(session)
