"""Making referrals and signposting records, receiving services' responses, and the clinical lead's redirect.

Consumers are idempotent through the shared inbox and, for events re-sent under new ids, through the
checks below and unique source ids on the rows. A call's triage decisions apply in their order, not their
arrival: one older than the decision applied is recorded as ignored and changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from services.referrals.application.commands import (
    AcceptReferral,
    ActOnAttendance,
    ActOnTriageDecision,
    Cause,
    CompleteReferral,
    DeclineReferral,
    RedirectReferral,
)
from services.referrals.application.context import ReferralsContext
from services.referrals.application.errors import ReferralNotFound
from services.referrals.application.publishing import Where, publish
from services.referrals.application.unit_of_work import ReferralsUnitOfWork
from services.referrals.domain import events
from services.referrals.domain.decisions import (
    Action,
    IgnoredDecision,
    MakeReferral,
    TriageDecision,
    attendance_action,
    keeps_referral,
    triage_action,
)
from services.referrals.domain.lifecycle import InvalidTransition, Response
from services.referrals.domain.referral import Referral
from services.referrals.domain.signpost import Signpost
from shared.contracts.codes import Destination
from shared.contracts.decision_order import Ordering, order_against
from shared.errors import RuleViolation
from shared.logging import get_logger

log = get_logger(__name__)


async def act_on_triage_decision(
    cmd: ActOnTriageDecision, uow: ReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    """Apply the call's newest decision: withdraw what an earlier one referred that this one does not ask
    for, then refer or signpost as it asks. A recorded signpost is a past fact (the patient was told) and
    stays; only the case's current decision changes."""
    now = ctx.clock()
    decision = TriageDecision.of(
        event_id=cmd.cause.event_id,
        call_id=cmd.call_id,
        correlation_id=cmd.cause.episode.correlation_id,
        decision_sequence=cmd.decision_sequence,
        supersedes=cmd.supersedes,
        decided_at=cmd.decided_at or now,
        triage_code=cmd.triage_code,
        disposition=cmd.disposition,
    )
    applied = await uow.decisions.applied_for(cmd.call_id)
    ordering = order_against(decision, applied)
    if applied is not None and ordering is not Ordering.NEWER:
        await uow.decisions.record_ignored(IgnoredDecision(decision, ordering, applied, now))
        # Sequences and codes only: nothing here identifies the patient.
        log.info(
            "triage_decision_ignored",
            ordering=ordering.value,
            decision_sequence=decision.sequence,
            applied_sequence=applied.sequence,
        )
        return
    await uow.decisions.apply(decision, replacing=applied, at=now)
    defaults = ctx.directory.defaults
    action = triage_action(
        cmd.disposition,
        cmd.destination,
        cmd.out_of_scope_reason,
        default_referral=defaults.referral,
        advice_destination=defaults.advice,
    )
    kept = await _withdraw_replaced(uow, ctx, cmd, action, now)
    if action is None:
        return
    if isinstance(action, MakeReferral):
        # A call's first decision stored before decisions were kept here (an older release), re-sent.
        legacy_resend = applied is None and await uow.referrals.first_made_for_call(
            cmd.call_id, action.destination
        )
        if not kept and not legacy_resend:
            await _refer(uow, ctx, action, cmd.cause, call_id=cmd.call_id)
        return
    # The same signpost for the call, re-sent or decided again, is recorded once.
    if await uow.signposts.recorded_for_call(cmd.call_id, action.destination, action.outcome):
        return
    signpost, given = Signpost.record(
        action, episode=cmd.cause.episode, source_event_id=cmd.cause.event_id, now=now, call_id=cmd.call_id
    )
    await uow.signposts.add(signpost)
    publish(uow, ctx, Where(cmd.cause.episode, cmd.cause.event_id), now, [given])


async def _withdraw_replaced(
    uow: ReferralsUnitOfWork,
    ctx: ReferralsContext,
    cmd: ActOnTriageDecision,
    action: Action | None,
    now: datetime,
) -> bool:
    """Withdraw the call's open referrals the newest decision no longer asks for (referral.withdrawn tells
    the receiving service to stop); True if one it asks for is open already, so none is made again."""
    kept = False
    for referral in await uow.referrals.open_from_triage(cmd.call_id):
        if keeps_referral(action, referral.destination):
            kept = True
            continue
        withdrawn = referral.withdraw(now)
        await uow.referrals.save(referral)
        publish(uow, ctx, Where(referral.episode, cmd.cause.event_id), now, [withdrawn])
        log.warning("referral_withdrawn_after_retriage", destination=referral.destination.value)
    return kept


async def act_on_attendance(cmd: ActOnAttendance, uow: ReferralsUnitOfWork, ctx: ReferralsContext) -> None:
    """Refer when the clinician's next step is a referral, for any appointment (none is known here before
    its outcome). Other next steps are rightly ignored: follow-up appointments and discharge are booking's
    and the practice's; a referral's date is our clock's, so a far-dated attendance cannot skew it.
    """
    action = attendance_action(
        cmd.next_step, cmd.destination, default_referral=ctx.directory.defaults.referral
    )
    if action is None or await uow.referrals.first_made_for_appointment(cmd.appointment_id):
        return  # nothing to refer, or the attendance re-sent under a new event id
    await _refer(uow, ctx, action, cmd.cause, appointment_id=cmd.appointment_id)


async def _refer(
    uow: ReferralsUnitOfWork,
    ctx: ReferralsContext,
    action: MakeReferral,
    cause: Cause,
    *,
    call_id: uuid.UUID | None = None,
    appointment_id: uuid.UUID | None = None,
) -> Referral:
    """A new chain: the first service of the kind, or unplaced for the clinical lead if there is none."""
    now = ctx.clock()
    service_code = ctx.directory.next_service(cause.episode.pcn_code, action.destination, tried=())
    referral, happened = Referral.make(
        episode=cause.episode,
        destination=action.destination,
        service_code=service_code,
        source_event_id=cause.event_id,
        now=now,
        deadlines=ctx.deadlines,
        call_id=call_id,
        appointment_id=appointment_id,
    )
    await uow.referrals.add(referral)
    publish(uow, ctx, Where(cause.episode, cause.event_id), now, happened)
    log.info("referral_made", destination=action.destination.value, placed=service_code is not None)
    return referral


async def _next_untried(
    uow: ReferralsUnitOfWork, ctx: ReferralsContext, referral: Referral, destination: Destination
) -> str | None:
    """The directory's next service of the kind that the referral's chain has not tried yet."""
    tried = await uow.referrals.services_tried(referral.root_referral_id)
    return ctx.directory.next_service(referral.pcn_code, destination, tried)


async def _get(uow: ReferralsUnitOfWork, referral_id: uuid.UUID) -> Referral:
    referral = await uow.referrals.get(referral_id)
    if referral is None:
        raise ReferralNotFound(referral_id)
    return referral


RESPONDED = {
    Response.ACCEPT: events.ReferralAccepted,
    Response.COMPLETE: events.ReferralCompleted,
}


class NotTheReferralsService(RuleViolation):
    """A receiving service's answer to a referral made to another service: never applied (dead-lettered)."""


async def _respond(
    uow: ReferralsUnitOfWork,
    ctx: ReferralsContext,
    referral: Referral,
    response: Response,
    cause: Cause | None,
    now: datetime,
    decline: DeclineReferral | None = None,
) -> uuid.UUID | None:
    """Apply a response; returns the id of the event that carries it, None if it repeated what is recorded.

    From the bus a repeat is a redelivery (a no-op); from a person it is a mistake they are told of.
    From the API (`cause` None) this service publishes the response for the receiving service.
    """
    # From the bus the broker proved which organisation answers: the referral must have been made to it.
    answerer = ctx.directory.answerer(referral.pcn_code, referral.service_code)
    if cause is not None and cause.answered_by is not None and answerer != cause.answered_by:
        raise NotTheReferralsService("the referral was not made to the answering organisation")
    code, reason = (decline.reason_code, decline.reason) if decline is not None else (None, None)
    if not referral.respond(response, now, reason_code=code, reason=reason):
        if cause is not None:
            return None
        raise InvalidTransition(f"the referral is already {referral.status.value}; nothing to change")
    await uow.referrals.save(referral)
    if cause is not None:
        return cause.event_id
    responded: events.DomainEvent = (
        events.ReferralDeclined(
            referral_id=referral.referral_id,
            # The code travels as reason_code; 1.0 consumers read only `reason`, so it is never empty.
            reason=reason or (code.value if code else "not given"),
            reason_code=code,
        )
        if response is Response.DECLINE
        else RESPONDED[response](referral_id=referral.referral_id)
    )
    publish(uow, ctx, Where.following(referral), now, [responded])
    return responded.event_id


async def accept_referral(cmd: AcceptReferral, uow: ReferralsUnitOfWork, ctx: ReferralsContext) -> Referral:
    referral = await _get(uow, cmd.referral_id)
    await _respond(uow, ctx, referral, Response.ACCEPT, cmd.cause, ctx.clock())
    return referral


async def complete_referral(
    cmd: CompleteReferral, uow: ReferralsUnitOfWork, ctx: ReferralsContext
) -> Referral:
    referral = await _get(uow, cmd.referral_id)
    await _respond(uow, ctx, referral, Response.COMPLETE, cmd.cause, ctx.clock())
    return referral


async def decline_referral(cmd: DeclineReferral, uow: ReferralsUnitOfWork, ctx: ReferralsContext) -> Referral:
    """A decline is never the end: re-routed to the next service of the kind, and the clinical lead told."""
    referral = await _get(uow, cmd.referral_id)
    now = ctx.clock()
    declined_by = await _respond(uow, ctx, referral, Response.DECLINE, cmd.cause, now, decline=cmd)
    if declined_by is None:
        return referral
    next_service = await _next_untried(uow, ctx, referral, referral.destination)
    rerouted, happened = referral.reroute(
        next_service, cause_id=declined_by, now=now, deadlines=ctx.deadlines
    )
    if rerouted is None:
        log.warning("referral_declined_no_destination_left", destination=referral.destination.value)
    else:
        await uow.referrals.add(rerouted)
        log.info("referral_rerouted", destination=referral.destination.value)
    await uow.referrals.save(referral)
    publish(uow, ctx, Where(referral.episode, declined_by), now, happened)
    return referral


async def redirect_referral(
    cmd: RedirectReferral, uow: ReferralsUnitOfWork, ctx: ReferralsContext
) -> Referral:
    """Returns the new referral; the unplaced one is closed as redirected."""
    referral = await _get(uow, cmd.referral_id)
    now = ctx.clock()
    next_service = await _next_untried(uow, ctx, referral, cmd.destination)
    rerouted, happened = referral.redirect(
        cmd.destination, next_service, clinician=cmd.clinician, now=now, deadlines=ctx.deadlines
    )
    await uow.referrals.add(rerouted)
    await uow.referrals.save(referral)
    publish(uow, ctx, Where.following(referral), now, happened)
    return rerouted
