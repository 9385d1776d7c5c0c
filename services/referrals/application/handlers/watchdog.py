"""The watchdog's scans: referrals unanswered past their due date and DNA follow-ups past their deadline.

Each item is escalated to the clinical lead once: the escalation is stored by compare-and-set in the
outbox's transaction, so a restart or a second instance never fires it twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from services.referrals.application.commands import ChaseUnansweredReferrals, EscalateOverdueFollowUps
from services.referrals.application.context import ReferralsContext
from services.referrals.application.publishing import Record, Where, publish
from services.referrals.application.unit_of_work import ReferralsUnitOfWork
from services.referrals.domain import events
from shared.logging import get_logger

log = get_logger(__name__)


class Overdue(Record, Protocol):
    def escalate_overdue(self, now: datetime) -> events.Escalated: ...


T = TypeVar("T", bound=Overdue)


async def _escalate_once(
    uow: ReferralsUnitOfWork,
    ctx: ReferralsContext,
    find_due: Callable[[datetime, int], Awaitable[Sequence[T]]],
    claim: Callable[[T], Awaitable[bool]],
    limit: int,
) -> int:
    now, fired = ctx.clock(), 0
    for item in await find_due(now, limit):
        escalation = item.escalate_overdue(now)
        if await claim(item):  # else another pass or instance got there first
            publish(uow, ctx, Where.following(item), now, [escalation])
            fired += 1
    return fired


async def chase_unanswered_referrals(
    cmd: ChaseUnansweredReferrals, uow: ReferralsUnitOfWork, ctx: ReferralsContext
) -> int:
    """Escalate referrals with no response by their due date (reason referral_unanswered)."""
    fired = await _escalate_once(uow, ctx, uow.referrals.due_for_chase, uow.referrals.claim_chase, cmd.limit)
    if fired:
        log.warning("referrals_chased", referrals=fired)
    return fired


async def escalate_overdue_follow_ups(
    cmd: EscalateOverdueFollowUps, uow: ReferralsUnitOfWork, ctx: ReferralsContext
) -> int:
    """Escalate DNA follow-ups with no outcome by their deadline (reason follow_up_overdue)."""
    follow_ups = uow.follow_ups
    fired = await _escalate_once(
        uow, ctx, follow_ups.due_for_escalation, follow_ups.claim_escalation, cmd.limit
    )
    if fired:
        log.warning("dna_follow_ups_overdue_escalated", follow_ups=fired)
    return fired
