"""Escalations as owned work: hold each `case.escalated`, climb the ladder when nobody acknowledges in time,
and the owner's acknowledge, resolve and hand-over.

Every change is stored by compare-and-set on the escalation's version in the outbox's transaction: two
replicas, a restart or a person acting while the watchdog climbs never apply one step twice.
"""

from __future__ import annotations

import uuid

from services.referrals.application.commands import (
    AcknowledgeEscalation,
    ClimbUnacknowledgedEscalations,
    HandOverEscalation,
    RecordEscalation,
    ResolveEscalation,
)
from services.referrals.application.context import ReferralsContext
from services.referrals.application.escalation_access import Actor
from services.referrals.application.publishing import Where, publish
from services.referrals.application.unit_of_work import ReferralsUnitOfWork
from services.referrals.domain.escalation import Escalation, EscalationState
from shared.contracts.codes import EscalationTarget
from shared.errors import NotYet, RuleViolation
from shared.logging import get_logger

log = get_logger(__name__)


class EscalationNotFound(RuleViolation):
    def __init__(self, escalation_id: uuid.UUID) -> None:
        super().__init__("escalation_id: no escalation with this id")
        self.escalation_id = escalation_id


class NotTheOwner(RuleViolation):
    """Only the escalation's owner, or the trust's duty manager, may act on it (403)."""


class NotInTheDirectory(RuleViolation):
    """A hand-over to someone the directory does not name for the escalation's PCN or the trust (422)."""


async def record_escalation(cmd: RecordEscalation, uow: ReferralsUnitOfWork, ctx: ReferralsContext) -> None:
    """Hold a new escalation with its owner; a higher rung from another service moves it on. The same
    rung again (a redelivery, or this service's own climb back from the bus) changes nothing."""
    raised, now = cmd.raised, ctx.clock()
    episode = raised.episode
    owner = raised.assigned_to or ctx.directory.owner(
        raised.target, raised.reason, episode.pcn_code, episode.practice_ods
    )
    held = await uow.escalations.get(raised.escalation_id)
    if held is None:
        escalation = Escalation.raise_from(raised, owner=owner, policy=ctx.escalation_policy, now=now)
        await uow.escalations.add(escalation)
        log.info(
            "escalation_held", target=raised.target.value, reason=raised.reason.value, owned=owner is not None
        )
        return
    if held.apply_higher_rung(raised, owner=owner, policy=ctx.escalation_policy, now=now):
        await _store(uow, held)
        log.info("escalation_moved_on_by_producer", rung=held.rung, target=held.target.value)


async def climb_unacknowledged_escalations(
    cmd: ClimbUnacknowledgedEscalations, uow: ReferralsUnitOfWork, ctx: ReferralsContext
) -> int:
    """Each open escalation past its acknowledge-by goes to its next owner (or re-alerts the trust)."""
    now, climbed = ctx.clock(), 0
    for escalation in await uow.escalations.due_to_climb(now, cmd.limit):
        where = Where.following(escalation)
        owner_of = {
            target: ctx.directory.assignee(target, escalation.pcn_code, escalation.practice_ods)
            for target in EscalationTarget
        }
        event = escalation.climb(policy=ctx.escalation_policy, owner_of=owner_of, now=now)
        if await uow.escalations.save(escalation):  # else another pass or replica climbed it first
            publish(uow, ctx, where, now, [event])
            climbed += 1
            log.warning("escalation_unacknowledged_climbed", rung=event.rung, target=event.target.value)
    return climbed


async def _get(uow: ReferralsUnitOfWork, escalation_id: uuid.UUID, actor: Actor) -> Escalation:
    escalation = await uow.escalations.get(escalation_id)
    if escalation is None or not actor.may_see(escalation):
        raise EscalationNotFound(escalation_id)
    if not actor.may_act(escalation):
        raise NotTheOwner("only the escalation's owner or the trust's duty manager may act on it")
    return escalation


async def _store(uow: ReferralsUnitOfWork, escalation: Escalation) -> None:
    if not await uow.escalations.save(escalation):
        # Changed since it was read (the ladder climbed it, or someone acted): nothing applied, try again.
        raise NotYet("the escalation changed while this was applied; read it again")


async def acknowledge_escalation(
    cmd: AcknowledgeEscalation, uow: ReferralsUnitOfWork, ctx: ReferralsContext
) -> Escalation:
    """The owner takes it on: it stops climbing (publishes escalation.acknowledged)."""
    escalation, now = await _get(uow, cmd.escalation_id, cmd.actor), ctx.clock()
    acknowledged = escalation.acknowledge(cmd.actor.user_id, now)
    await _store(uow, escalation)
    publish(uow, ctx, Where.following(escalation), now, [acknowledged])
    return escalation


async def resolve_escalation(
    cmd: ResolveEscalation, uow: ReferralsUnitOfWork, ctx: ReferralsContext
) -> Escalation:
    """Closed with its outcome (publishes escalation.resolved, after escalation.acknowledged if open)."""
    escalation, now = await _get(uow, cmd.escalation_id, cmd.actor), ctx.clock()
    happened = escalation.resolve(cmd.actor.user_id, cmd.outcome, cmd.note, now)
    await _store(uow, escalation)
    publish(uow, ctx, Where.following(escalation), now, happened)
    return escalation


async def hand_over_escalation(
    cmd: HandOverEscalation, uow: ReferralsUnitOfWork, ctx: ReferralsContext
) -> Escalation:
    """Another person the directory names owns it now; the state and the ladder's clock are kept."""
    escalation, now = await _get(uow, cmd.escalation_id, cmd.actor), ctx.clock()
    if cmd.to not in ctx.directory.named_people(escalation.pcn_code):
        raise NotInTheDirectory("to: not a person the directory names for this escalation's PCN or the trust")
    escalation.hand_over(cmd.actor.user_id, cmd.to, now)
    await _store(uow, escalation)
    log.info("escalation_handed_over", state=escalation.state.value)
    return escalation


async def inbox(
    uow: ReferralsUnitOfWork,
    actor: Actor,
    *,
    state: EscalationState | None,
    offset: int = 0,
    limit: int | None = None,
) -> list[Escalation]:
    """The caller's own escalations, and for a trust manager or operator their function's."""
    return await uow.escalations.inbox(
        owner=actor.user_id,
        targets=actor.inbox_targets,
        pcns=actor.pcns,
        state=state,
        offset=offset,
        limit=limit,
    )


async def find_escalation(uow: ReferralsUnitOfWork, escalation_id: uuid.UUID) -> Escalation | None:
    return await uow.escalations.get(escalation_id)
