"""Escalation handlers on the fake unit of work: holding, the ladder, who may act, and what is published."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import TypeAlias

import pytest

from services.referrals.application.commands import (
    AcknowledgeEscalation,
    ClimbUnacknowledgedEscalations,
    HandOverEscalation,
    RecordEscalation,
    ResolveEscalation,
)
from services.referrals.application.context import ReferralsContext
from services.referrals.application.escalation_access import Actor
from services.referrals.application.handlers import escalations as handlers
from services.referrals.application.publishing import Where, publish
from services.referrals.domain import events
from services.referrals.domain.directory import TrustContacts
from services.referrals.domain.episode import Episode
from services.referrals.domain.escalation import Escalation, EscalationState
from shared.contracts.codes import EscalationOutcome, EscalationReason, EscalationTarget
from shared.contracts.v1 import CaseEscalated, EscalationAcknowledged, EscalationResolved
from shared.errors import NotYet
from shared.identity import Role
from tests.referrals.unit.fakes import (
    DIRECTORY,
    LEAD,
    PCN,
    PRACTICE,
    FakeReferralsUnitOfWork,
    context,
    raised,
)
from tests.support.clock import MONDAY_10AM, FakeClock

T: TypeAlias = EscalationTarget
R: TypeAlias = EscalationReason
DUTY_GP, TRUST, OPS, OOH = "gp.y01234", "trust.1", "ops.1", "ooh.1"
pcn = DIRECTORY.pcns[PCN]
NAMED = dataclasses.replace(
    DIRECTORY,
    pcns={PCN: dataclasses.replace(pcn, duty_gps={PRACTICE: DUTY_GP}, out_of_hours=OOH)},
    trust=TrustContacts(trust_duty_manager=TRUST, platform_operator=OPS, crisis_team="crisis.1"),
)
LEAD_ACTOR = Actor(LEAD, Role.CLINICAL_LEAD, frozenset({PCN}), PRACTICE)
OTHER_LEAD = Actor("lead.other", Role.CLINICAL_LEAD, frozenset({PCN}), "Y01235")
TRUST_ACTOR = Actor("someone.at.trust", Role.TRUST_MANAGER, frozenset({PCN}), None)


@pytest.fixture
def ctx(clock: FakeClock) -> ReferralsContext:
    return context(clock, directory=NAMED)


async def hold(uow: FakeReferralsUnitOfWork, ctx: ReferralsContext, **fields: object) -> Escalation:
    event = raised(**fields)  # type: ignore[arg-type]
    await handlers.record_escalation(RecordEscalation(event), uow, ctx)
    found = await uow.escalations.get(event.escalation_id)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("target", "reason", "owner"),
    [
        (T.PRACTICE_CLINICAL_LEAD, R.RISK, LEAD),
        (T.DUTY_GP, R.RISK, DUTY_GP),
        (T.GP, R.REPEATED_DNA, DUTY_GP),
        (T.CRISIS_TEAM, R.RISK, "crisis.1"),
        (T.EMERGENCY_SERVICES, R.RISK, "crisis.1"),  # someone must record that 999 was called
        (T.TRUST_DUTY_MANAGER, R.RISK, TRUST),
        (T.PLATFORM_OPERATOR, R.DEAD_LETTER, OPS),
        (T.DUTY_GP, R.RED_FLAG_OUT_OF_HOURS, OOH),  # out of hours the practice's duty GP is not there
    ],
)
async def test_an_escalation_naming_nobody_is_owned_by_the_directorys_person_for_its_target(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext, target: T, reason: R, owner: str
) -> None:
    held = await hold(uow, ctx, target=target, reason=reason)
    assert (held.owner, held.state, held.rung, held.raised_by) == (
        owner,
        EscalationState.OPEN,
        0,
        "RMH/booking",
    )
    assert uow.events == []  # holding it publishes nothing


async def test_a_named_assignee_is_kept_and_the_same_rung_again_or_our_own_climb_changes_nothing(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    first = raised(assigned_to="someone.named")
    await handlers.record_escalation(RecordEscalation(first), uow, ctx)
    before = await uow.escalations.get(first.escalation_id)
    assert before is not None
    assert before.owner == "someone.named"
    again = dataclasses.replace(first, event_id=uuid.uuid4(), assigned_to="another")
    await handlers.record_escalation(RecordEscalation(again), uow, ctx)
    assert await uow.escalations.get(first.escalation_id) == before


async def test_the_ladder_republishes_the_same_escalation_to_the_next_owner_once(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext, clock: FakeClock
) -> None:
    held = await hold(uow, ctx, reason=R.APPOINTMENT_DEADLINE_BREACH, appointment_id=uuid.uuid4())
    clock.now = held.acknowledge_by
    assert await handlers.climb_unacknowledged_escalations(ClimbUnacknowledgedEscalations(), uow, ctx) == 0
    clock.now += timedelta(seconds=1)
    assert await handlers.climb_unacknowledged_escalations(ClimbUnacknowledgedEscalations(), uow, ctx) == 1
    assert await handlers.climb_unacknowledged_escalations(ClimbUnacknowledgedEscalations(), uow, ctx) == 0
    [climbed] = uow.events_of(CaseEscalated)
    assert (climbed.data.escalation_id, climbed.data.rung, climbed.data.target) == (
        held.escalation_id,
        1,
        T.DUTY_GP,
    )
    assert (climbed.data.assigned_to, climbed.data.reason) == (DUTY_GP, R.APPOINTMENT_DEADLINE_BREACH)
    assert climbed.data.appointment_id == held.appointment_id
    assert climbed.data.acknowledge_by == clock.now + timedelta(hours=1)
    assert (climbed.causation_id, climbed.correlation_id) == (held.last_event_id, held.correlation_id)
    # Our own climb back from the bus: the rung is held already.
    back = raised(escalation_id=held.escalation_id, rung=1, target=T.DUTY_GP, event_id=climbed.event_id)
    await handlers.record_escalation(RecordEscalation(back), uow, ctx)
    after = await uow.escalations.get(held.escalation_id)
    assert after is not None
    assert [h.step for h in after.history] == ["raised", "climbed"]


async def test_a_climb_another_replica_stored_first_publishes_nothing(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext, clock: FakeClock
) -> None:
    held = await hold(uow, ctx)
    clock.now = held.acknowledge_by + timedelta(seconds=1)
    uow.escalations.refuse_saves = True
    assert await handlers.climb_unacknowledged_escalations(ClimbUnacknowledgedEscalations(), uow, ctx) == 0
    assert uow.events == []


async def test_only_the_owner_or_the_trust_may_act_and_others_are_told_it_does_not_exist(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    held = await hold(uow, ctx, target=T.DUTY_GP)  # owned by the duty GP; the practice's lead may see it
    with pytest.raises(handlers.NotTheOwner):
        await handlers.acknowledge_escalation(AcknowledgeEscalation(held.escalation_id, LEAD_ACTOR), uow, ctx)
    with pytest.raises(handlers.EscalationNotFound):
        await handlers.acknowledge_escalation(AcknowledgeEscalation(held.escalation_id, OTHER_LEAD), uow, ctx)
    operator = Actor(OPS, Role.OPERATOR, frozenset({PCN}), None)
    with pytest.raises(handlers.EscalationNotFound):
        await handlers.acknowledge_escalation(AcknowledgeEscalation(held.escalation_id, operator), uow, ctx)
    assert uow.events == []
    done = await handlers.acknowledge_escalation(
        AcknowledgeEscalation(held.escalation_id, TRUST_ACTOR), uow, ctx
    )
    assert (done.state, done.acknowledged_by) == (EscalationState.ACKNOWLEDGED, TRUST_ACTOR.user_id)
    [ack] = uow.events_of(EscalationAcknowledged)
    assert (ack.data.acknowledged_by, ack.data.target, ack.data.rung) == (TRUST_ACTOR.user_id, T.DUTY_GP, 0)


async def test_resolving_publishes_the_acknowledgement_then_the_outcome(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    held = await hold(uow, ctx)
    command = ResolveEscalation(
        held.escalation_id, LEAD_ACTOR, EscalationOutcome.APPOINTMENT_BOOKED, "booked"
    )
    await handlers.resolve_escalation(command, uow, ctx)
    assert uow.types() == ["escalation.acknowledged", "escalation.resolved"]
    [resolved] = uow.events_of(EscalationResolved)
    assert (resolved.data.outcome, resolved.data.note, resolved.data.resolved_by) == (
        EscalationOutcome.APPOINTMENT_BOOKED,
        "booked",
        LEAD,
    )


async def test_hand_over_only_to_a_person_the_directory_names(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    held = await hold(uow, ctx)
    with pytest.raises(handlers.NotInTheDirectory):
        await handlers.hand_over_escalation(
            HandOverEscalation(held.escalation_id, LEAD_ACTOR, "stranger"), uow, ctx
        )
    moved = await handlers.hand_over_escalation(
        HandOverEscalation(held.escalation_id, LEAD_ACTOR, DUTY_GP), uow, ctx
    )
    assert (moved.owner, moved.state) == (DUTY_GP, EscalationState.OPEN)
    with pytest.raises(handlers.NotTheOwner):  # the lead handed it on: no longer theirs to act on
        await handlers.acknowledge_escalation(AcknowledgeEscalation(held.escalation_id, LEAD_ACTOR), uow, ctx)


async def test_a_change_racing_the_ladder_is_not_applied_and_can_be_retried(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    held = await hold(uow, ctx)
    uow.escalations.refuse_saves = True
    with pytest.raises(NotYet):
        await handlers.acknowledge_escalation(AcknowledgeEscalation(held.escalation_id, LEAD_ACTOR), uow, ctx)


async def test_the_inbox_holds_ones_own_and_for_the_trust_its_rung(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    mine = await hold(uow, ctx)
    trusts = await hold(uow, ctx, target=T.TRUST_DUTY_MANAGER)
    await hold(uow, ctx, target=T.DUTY_GP)
    lead_inbox = await handlers.inbox(uow, LEAD_ACTOR, state=None)
    trust_inbox = await handlers.inbox(uow, TRUST_ACTOR, state=EscalationState.OPEN)
    assert [e.escalation_id for e in lead_inbox] == [mine.escalation_id]
    assert [e.escalation_id for e in trust_inbox] == [trusts.escalation_id]
    assert await handlers.inbox(uow, TRUST_ACTOR, state=EscalationState.RESOLVED) == []


def test_this_services_own_escalations_carry_their_owner_and_acknowledgement_deadline(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    notice = events.Escalated(target=T.GP, reason=R.REPEATED_DNA, appointment_id=uuid.uuid4())
    publish(uow, ctx, Where(Episode(PCN, PRACTICE, uuid.uuid4()), None), MONDAY_10AM, [notice])
    [published] = uow.events_of(CaseEscalated)
    assert (published.data.assigned_to, published.data.rung) == (DUTY_GP, 0)
    assert published.data.acknowledge_by == MONDAY_10AM + timedelta(hours=1)
