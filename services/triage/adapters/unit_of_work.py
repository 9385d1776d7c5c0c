"""Triage's unit of work over one database transaction: its repositories and the outbox."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.triage.adapters.repositories import SqlCallRepository, SqlDecisionRepository
from shared.unit_of_work import SqlUnitOfWork


class SqlTriageUnitOfWork(SqlUnitOfWork):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.calls = SqlCallRepository(session)
        self.decisions = SqlDecisionRepository(session)
