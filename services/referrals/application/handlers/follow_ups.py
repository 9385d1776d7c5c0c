"""DNA follow-up: open one per missed appointment (telling the GP of a repeat), record its outcome."""

from __future__ import annotations

from services.referrals.application.commands import OpenDnaFollowUp, RecordFollowUpOutcome
from services.referrals.application.context import ReferralsContext
from services.referrals.application.errors import FollowUpNotFound
from services.referrals.application.publishing import Where, publish
from services.referrals.application.unit_of_work import ReferralsUnitOfWork
from services.referrals.domain.follow_up import DnaEpisode, DnaFollowUp
from shared.logging import get_logger

log = get_logger(__name__)


async def open_dna_follow_up(
    cmd: OpenDnaFollowUp, uow: ReferralsUnitOfWork, ctx: ReferralsContext
) -> DnaFollowUp | None:
    """Open a follow-up with its contact deadline; a second DNA in the episode tells the GP (once).

    Referrals consumes no booking events, so it hears of an appointment only through its outcome: every
    DNA is for an appointment unknown here, and it always opens a follow-up. A missed mental-health
    appointment matters clinically and must never vanish; only the same DNA re-sent is ignored. Its
    instants were bounded by the contract (2000 to two years ahead) before it reached us.
    """
    if await uow.follow_ups.opened_for_appointment(cmd.appointment_id):
        return None  # the same missed appointment re-sent under a new event id
    now = ctx.clock()
    episode = cmd.cause.episode
    follow_up = DnaFollowUp.open(
        appointment_id=cmd.appointment_id,
        attendance=cmd.attendance,
        dna_event_id=cmd.cause.event_id,
        episode=episode,
        missed_at=cmd.missed_at,
        now=now,
        deadlines=ctx.deadlines,
    )
    await uow.follow_ups.add(follow_up)
    dnas = await uow.dna_episodes.get(episode.correlation_id) or DnaEpisode(
        correlation_id=episode.correlation_id
    )
    happened = dnas.record_dna(cmd.appointment_id, now)
    await uow.dna_episodes.save(dnas)
    publish(uow, ctx, Where(episode, cmd.cause.event_id), now, happened)
    if happened:
        log.warning("repeated_dna_gp_notified")
    return follow_up


async def record_follow_up_outcome(
    cmd: RecordFollowUpOutcome, uow: ReferralsUnitOfWork, ctx: ReferralsContext
) -> DnaFollowUp:
    """Record what the follow-up achieved (publishes dna.followed_up, and a signpost or escalation)."""
    follow_up = await uow.follow_ups.get(cmd.follow_up_id)
    if follow_up is None:
        raise FollowUpNotFound(cmd.follow_up_id)
    now = ctx.clock()
    signpost, happened = follow_up.record_outcome(
        cmd.outcome, clinician=cmd.clinician, signposted_to=cmd.signposted_to, now=now
    )
    if signpost is not None:
        await uow.signposts.add(signpost)
    await uow.follow_ups.save(follow_up)
    publish(uow, ctx, Where.following(follow_up), now, happened)
    return follow_up
