"""Referrals' watchdog: the shared loop running its scans (chase, follow-ups, the escalation ladder), each a
command in the pass's transaction."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.referrals.adapters.unit_of_work import SqlReferralsUnitOfWork
from services.referrals.application.commands import (
    ChaseUnansweredReferrals,
    ClimbUnacknowledgedEscalations,
    EscalateOverdueFollowUps,
)
from services.referrals.application.context import ReferralsContext
from services.referrals.application.handlers.escalations import climb_unacknowledged_escalations
from services.referrals.application.handlers.watchdog import (
    chase_unanswered_referrals,
    escalate_overdue_follow_ups,
)
from shared.db import Database
from shared.watchdog import Watchdog


def referrals_watchdog(db: Database, ctx: ReferralsContext, *, interval: float) -> Watchdog:
    """Chases unanswered referrals and escalates overdue DNA follow-ups, once each; climbs unacknowledged
    escalations up their ladder."""

    async def chase(session: AsyncSession, limit: int) -> int:
        return await chase_unanswered_referrals(
            ChaseUnansweredReferrals(limit), SqlReferralsUnitOfWork(session), ctx
        )

    async def follow_ups(session: AsyncSession, limit: int) -> int:
        return await escalate_overdue_follow_ups(
            EscalateOverdueFollowUps(limit), SqlReferralsUnitOfWork(session), ctx
        )

    async def ladder(session: AsyncSession, limit: int) -> int:
        return await climb_unacknowledged_escalations(
            ClimbUnacknowledgedEscalations(limit), SqlReferralsUnitOfWork(session), ctx
        )

    return Watchdog(db, [chase, follow_ups, ladder], interval=interval)
