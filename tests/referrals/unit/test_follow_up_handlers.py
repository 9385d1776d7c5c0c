"""DNA follow-up handlers on the in-memory unit of work."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.referrals.application.commands import Cause, OpenDnaFollowUp, RecordFollowUpOutcome
from services.referrals.application.context import ReferralsContext
from services.referrals.application.errors import FollowUpNotFound
from services.referrals.application.handlers.follow_ups import open_dna_follow_up, record_follow_up_outcome
from services.referrals.domain.episode import Episode
from services.referrals.domain.follow_up import DnaFollowUp, FollowUpStatus
from shared.contracts.codes import AttendanceStatus, Destination, DnaFollowUpOutcome
from shared.contracts.v1 import CaseEscalated, DnaFollowedUp, SignpostRecorded
from tests.referrals.unit.fakes import LEAD, PCN, PRACTICE, FakeReferralsUnitOfWork
from tests.support.clock import MONDAY_10AM


def missed(
    correlation_id: uuid.UUID | None = None, appointment_id: uuid.UUID | None = None
) -> OpenDnaFollowUp:
    episode = Episode(PCN, PRACTICE, correlation_id or uuid.uuid4())
    return OpenDnaFollowUp(
        appointment_id or uuid.uuid4(),
        AttendanceStatus.DID_NOT_ATTEND,
        MONDAY_10AM,
        Cause(uuid.uuid4(), episode),
    )


async def test_a_dna_opens_one_follow_up_due_two_working_days_later(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    command = missed()
    follow_up = await open_dna_follow_up(command, uow, ctx)
    assert follow_up is not None
    assert follow_up.due_at == MONDAY_10AM + timedelta(days=2)
    assert follow_up.dna_event_id == command.cause.event_id
    resent = OpenDnaFollowUp(**{**vars(command), "cause": Cause(uuid.uuid4(), command.cause.episode)})
    assert await open_dna_follow_up(resent, uow, ctx) is None
    assert len(uow.follow_ups.rows) == 1
    assert uow.dna_episodes.rows[command.cause.episode.correlation_id].dna_count == 1
    assert uow.events == []


async def test_a_dna_for_an_appointment_never_heard_of_dated_ahead_is_followed_up_from_now(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    command = OpenDnaFollowUp(
        uuid.uuid4(),
        AttendanceStatus.ARRIVED_LATE_NOT_SEEN,
        MONDAY_10AM + timedelta(days=400),
        Cause(uuid.uuid4(), Episode("U99999", "Z99999", uuid.uuid4())),  # not even in the directory
    )
    follow_up = await open_dna_follow_up(command, uow, ctx)
    assert follow_up is not None
    assert (follow_up.opened_at, follow_up.due_at) == (MONDAY_10AM, MONDAY_10AM + timedelta(days=2))
    assert follow_up.attendance is AttendanceStatus.ARRIVED_LATE_NOT_SEEN
    assert list(uow.follow_ups.rows) == [follow_up.follow_up_id]


async def test_the_second_dna_of_an_episode_tells_the_gp_once(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    episode = uuid.uuid4()
    commands = [missed(episode) for _ in range(3)]
    for command in commands:
        await open_dna_follow_up(command, uow, ctx)
    notice = uow.one(CaseEscalated)
    assert notice.data.target == "gp"
    assert notice.data.assigned_to is None
    assert notice.data.appointment_id == commands[1].appointment_id
    assert notice.causation_id == commands[1].cause.event_id
    assert uow.dna_episodes.rows[episode].gp_notice_event_id == notice.event_id


async def opened(uow: FakeReferralsUnitOfWork, ctx: ReferralsContext) -> DnaFollowUp:
    follow_up = await open_dna_follow_up(missed(), uow, ctx)
    assert follow_up is not None
    return follow_up


async def test_a_signposted_outcome_publishes_the_follow_up_and_the_signpost(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    follow_up = await opened(uow, ctx)
    command = RecordFollowUpOutcome(
        follow_up.follow_up_id,
        DnaFollowUpOutcome.CONTACTED_AND_SIGNPOSTED,
        "mhp.1",
        Destination.VOLUNTARY_SECTOR,
    )
    await record_follow_up_outcome(command, uow, ctx)
    done, signposted = uow.one(DnaFollowedUp), uow.one(SignpostRecorded)
    assert done.data.outcome is DnaFollowUpOutcome.CONTACTED_AND_SIGNPOSTED
    assert done.causation_id == signposted.causation_id == follow_up.dna_event_id
    [signpost] = uow.signposts.rows
    assert signpost.source_event_id == done.event_id
    stored = uow.follow_ups.rows[follow_up.follow_up_id]
    assert (stored.status, stored.signposted_to) == (FollowUpStatus.DONE, Destination.VOLUNTARY_SECTOR)


async def test_a_safeguarding_outcome_escalates_to_the_named_clinical_lead(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    follow_up = await opened(uow, ctx)
    command = RecordFollowUpOutcome(
        follow_up.follow_up_id, DnaFollowUpOutcome.SAFEGUARDING_ESCALATION, "mhp.1"
    )
    await record_follow_up_outcome(command, uow, ctx)
    escalated = uow.one(CaseEscalated)
    assert (escalated.data.reason, escalated.data.assigned_to) == ("safeguarding", LEAD)


async def test_an_unknown_follow_up_is_not_found(uow: FakeReferralsUnitOfWork, ctx: ReferralsContext) -> None:
    with pytest.raises(FollowUpNotFound):
        await record_follow_up_outcome(
            RecordFollowUpOutcome(uuid.uuid4(), DnaFollowUpOutcome.REBOOKED, "mhp.1"), uow, ctx
        )
