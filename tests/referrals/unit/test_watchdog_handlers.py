"""The watchdog's scans on the in-memory unit of work: each overdue item is escalated once."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.referrals.application.commands import (
    Cause,
    ChaseUnansweredReferrals,
    EscalateOverdueFollowUps,
    OpenDnaFollowUp,
)
from services.referrals.application.context import ReferralsContext
from services.referrals.application.handlers.follow_ups import open_dna_follow_up
from services.referrals.application.handlers.watchdog import (
    chase_unanswered_referrals,
    escalate_overdue_follow_ups,
)
from services.referrals.domain.deadlines import Deadlines
from services.referrals.domain.episode import Episode
from services.referrals.domain.referral import Referral
from shared.contracts.codes import AttendanceStatus, Destination
from shared.contracts.v1 import CaseEscalated
from tests.referrals.unit.fakes import LEAD, PCN, PRACTICE, FakeReferralsUnitOfWork
from tests.support.clock import MONDAY_10AM, FakeClock

EPISODE = Episode(PCN, PRACTICE, uuid.uuid4())


async def stored_referral(uow: FakeReferralsUnitOfWork) -> Referral:
    referral, _ = Referral.make(
        episode=EPISODE,
        destination=Destination.COMMUNITY_MENTAL_HEALTH_TEAM,
        service_code="cmht-east",
        source_event_id=uuid.uuid4(),
        now=MONDAY_10AM,
        deadlines=Deadlines(),
    )
    await uow.referrals.add(referral)
    return referral


async def test_an_unanswered_referral_is_chased_once_after_its_due_date(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext, clock: FakeClock
) -> None:
    referral = await stored_referral(uow)
    assert referral.response_due_at is not None
    clock.now = referral.response_due_at
    assert await chase_unanswered_referrals(ChaseUnansweredReferrals(), uow, ctx) == 0
    clock.now += timedelta(minutes=1)
    assert await chase_unanswered_referrals(ChaseUnansweredReferrals(), uow, ctx) == 1
    assert await chase_unanswered_referrals(ChaseUnansweredReferrals(), uow, ctx) == 0
    chase = uow.one(CaseEscalated)
    assert (chase.data.reason, chase.data.assigned_to, chase.data.due_at) == (
        "referral_unanswered",
        LEAD,
        referral.response_due_at,
    )
    assert chase.causation_id == referral.made_event_id
    assert uow.referrals.rows[referral.referral_id].chase_event_id == chase.event_id


async def test_a_chase_another_instance_claimed_first_is_not_published(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext, clock: FakeClock
) -> None:
    await stored_referral(uow)
    uow.referrals.refuse_claims = True
    clock.advance(timedelta(days=30))
    assert await chase_unanswered_referrals(ChaseUnansweredReferrals(), uow, ctx) == 0
    assert uow.events == []


async def test_the_scan_takes_at_most_its_limit(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext, clock: FakeClock
) -> None:
    for _ in range(3):
        await stored_referral(uow)
    clock.advance(timedelta(days=30))
    assert await chase_unanswered_referrals(ChaseUnansweredReferrals(limit=2), uow, ctx) == 2
    assert await chase_unanswered_referrals(ChaseUnansweredReferrals(limit=2), uow, ctx) == 1


async def test_an_overdue_follow_up_is_escalated_once(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext, clock: FakeClock
) -> None:
    command = OpenDnaFollowUp(
        uuid.uuid4(), AttendanceStatus.DID_NOT_ATTEND, MONDAY_10AM, Cause(uuid.uuid4(), EPISODE)
    )
    follow_up = await open_dna_follow_up(command, uow, ctx)
    assert follow_up is not None
    clock.now = follow_up.due_at
    assert await escalate_overdue_follow_ups(EscalateOverdueFollowUps(), uow, ctx) == 0
    clock.now += timedelta(seconds=1)
    assert await escalate_overdue_follow_ups(EscalateOverdueFollowUps(), uow, ctx) == 1
    assert await escalate_overdue_follow_ups(EscalateOverdueFollowUps(), uow, ctx) == 0
    escalated = uow.one(CaseEscalated)
    assert (escalated.data.reason, escalated.data.appointment_id) == (
        "follow_up_overdue",
        command.appointment_id,
    )
    assert escalated.causation_id == command.cause.event_id
    assert uow.follow_ups.rows[follow_up.follow_up_id].escalation_event_id == escalated.event_id
