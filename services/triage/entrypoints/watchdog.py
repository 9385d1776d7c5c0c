"""The callback-deadline watchdog: the shared loop, running EscalateOverdueCalls each pass."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.triage.adapters.unit_of_work import SqlTriageUnitOfWork
from services.triage.application.commands import EscalateOverdueCalls
from services.triage.application.context import TriageContext
from services.triage.application.handlers import escalate_overdue_calls
from shared.db import Database
from shared.logging import get_logger
from shared.watchdog import Watchdog

log = get_logger(__name__)


def deadline_watchdog(db: Database, ctx: TriageContext, *, interval: float) -> Watchdog:
    """Escalates calls past their callback target to the duty GP, once each."""

    async def scan(session: AsyncSession, limit: int) -> int:
        fired = await escalate_overdue_calls(EscalateOverdueCalls(limit), SqlTriageUnitOfWork(session), ctx)
        if fired:
            log.warning("triage_deadline_escalated", calls=fired)
        return fired

    return Watchdog(db, [scan], interval=interval)
