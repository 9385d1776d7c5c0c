"""The watchdog's scans: referrals unanswered past their due date and DNA follow-ups past their deadline.

Each item is escalated to the clinical lead once: the escalation is stored by compare-and-set in the
outbox's transaction, so a restart or a second instance never fires it twice.
"""

from __future__ import annotations

from services.referrals.application.commands import ChaseUnansweredReferrals, EscalateOverdueFollowUps
from services.referrals.application.context import ReferralsContext
from services.referrals.application.publish import Where, publish
from services.referrals.application.unit_of_work import ReferralsUnitOfWork
from shared.logging import get_logger

log = get_logger(__name__)


async def chase_unanswered_referrals(
    cmd: ChaseUnansweredReferrals, uow: ReferralsUnitOfWork, ctx: ReferralsContext
) -> int:
    """Escalate referrals with no response by their due date (reason referral_unanswered)."""
    now, fired = ctx.clock(), 0
    for referral in await uow.referrals.due_for_chase(now, cmd.limit):
        chase = referral.chase(now)
        if await uow.referrals.claim_chase(referral):
            publish(uow, ctx, Where(referral.episode, referral.made_event_id), now, [chase])
            fired += 1
    if fired:
        log.warning("referrals_chased", referrals=fired)
    return fired


async def escalate_overdue_follow_ups(
    cmd: EscalateOverdueFollowUps, uow: ReferralsUnitOfWork, ctx: ReferralsContext
) -> int:
    """Escalate DNA follow-ups with no outcome by their deadline (reason follow_up_overdue)."""
    now, fired = ctx.clock(), 0
    for follow_up in await uow.follow_ups.due_for_escalation(now, cmd.limit):
        escalation = follow_up.escalate(now)
        if await uow.follow_ups.claim_escalation(follow_up):
            publish(uow, ctx, Where(follow_up.episode, follow_up.dna_event_id), now, [escalation])
            fired += 1
    if fired:
        log.warning("dna_follow_ups_overdue_escalated", follow_ups=fired)
    return fired
