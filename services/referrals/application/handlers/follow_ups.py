"""Follow-up of a missed appointment: open one per DNA or patient cancellation, due by the case's risk
(telling the clinical lead at once for a high-risk case, the GP of a repeated DNA); record its outcome."""

from __future__ import annotations

from services.referrals.application.commands import OpenDnaFollowUp, RecordFollowUpOutcome
from services.referrals.application.context import ReferralsContext
from services.referrals.application.errors import FollowUpNotFound
from services.referrals.application.publishing import Where, publish
from services.referrals.application.unit_of_work import ReferralsUnitOfWork
from services.referrals.domain import events
from services.referrals.domain.follow_up import DnaEpisode, DnaFollowUp
from shared.logging import get_logger

log = get_logger(__name__)


async def open_dna_follow_up(
    cmd: OpenDnaFollowUp, uow: ReferralsUnitOfWork, ctx: ReferralsContext
) -> DnaFollowUp | None:
    """Open a follow-up due by the case's triage code (kept from call.triaged for the episode).

    A high-risk case's first miss tells the clinical lead (once per episode); a second DNA in the episode
    tells the GP (once). A patient's cancellation is followed up like a DNA but counts as no DNA.

    Referrals consumes no booking events, so it hears of an appointment only through its outcome: every
    DNA is for an appointment unknown here, and it always opens a follow-up. A missed mental-health
    appointment matters clinically and must never vanish; only the same appointment re-sent (or both
    cancelled and reported missed) is followed up once. Its instants were bounded by the contract (2000 to
    two years ahead) before it reached us.
    """
    if await uow.follow_ups.opened_for_appointment(cmd.appointment_id):
        return None  # the same missed appointment re-sent under a new event id
    now = ctx.clock()
    episode = cmd.cause.episode
    code = await uow.decisions.triage_code_for_episode(episode.correlation_id)
    follow_up = DnaFollowUp.open(
        appointment_id=cmd.appointment_id,
        attendance=cmd.attendance,
        dna_event_id=cmd.cause.event_id,
        episode=episode,
        missed_at=cmd.missed_at,
        now=now,
        policy=ctx.follow_up_policy,
        triage_code=code,
    )
    await uow.follow_ups.add(follow_up)
    missed = await uow.dna_episodes.get(episode.correlation_id) or DnaEpisode(
        correlation_id=episode.correlation_id
    )
    happened = missed.record_missed(
        follow_up, now, tell_clinical_lead=ctx.follow_up_policy.tells_clinical_lead_at_first_miss(code)
    )
    await uow.dna_episodes.save(missed)
    publish(uow, ctx, Where(episode, cmd.cause.event_id), now, happened)
    # Codes only: nothing here identifies the patient.
    log.info(
        "missed_appointment_follow_up_opened",
        attendance=follow_up.attendance.value,
        urgency=ctx.follow_up_policy.urgency(code).value,
        told=[e.target.value for e in happened if isinstance(e, events.Escalated)],
    )
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
