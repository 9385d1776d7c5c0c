"""Re-triage applied in order: the newest decision per call wins, whatever the arrival order (unit, fakes)."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from services.referrals.application.commands import AcceptReferral, ActOnTriageDecision, Cause
from services.referrals.application.context import ReferralsContext
from services.referrals.application.handlers.referrals import accept_referral, act_on_triage_decision
from services.referrals.domain.decisions import (
    DecisionRaced,
    TriageDecision,
)
from services.referrals.domain.episode import Episode
from services.referrals.domain.lifecycle import InvalidTransition, ReferralStatus
from services.referrals.domain.referral import Referral
from shared.contracts.codes import Destination, Disposition, ReferralWithdrawnReason, TriageCode
from shared.contracts.decision_order import Ordering, order_against
from shared.contracts.v1 import ReferralMade, ReferralWithdrawn, SignpostRecorded
from tests.referrals.unit.fakes import PCN, PRACTICE, FakeReferralsUnitOfWork
from tests.support.clock import MONDAY_10AM

CMHT = Destination.COMMUNITY_MENTAL_HEALTH_TEAM
TT = Destination.TALKING_THERAPIES


class Call:
    """One call's decisions, numbered as triage numbers them."""

    def __init__(self) -> None:
        self.call_id = uuid.uuid4()
        self.episode = Episode(PCN, PRACTICE, uuid.uuid4())

    def decision(
        self,
        sequence: int | None,
        disposition: Disposition,
        destination: Destination | None = None,
        *,
        code: TriageCode = TriageCode.F,
        minutes_after: int = 0,
    ) -> ActOnTriageDecision:
        return ActOnTriageDecision(
            self.call_id,
            disposition,
            destination,
            None,
            Cause(uuid.uuid4(), self.episode),
            triage_code=code,
            decision_sequence=sequence,
            supersedes=None if sequence in (None, 1) else uuid.uuid4(),
            decided_at=MONDAY_10AM + timedelta(minutes=minutes_after),
        )


def open_referrals(uow: FakeReferralsUnitOfWork, call: Call) -> list[Referral]:
    return [
        r
        for r in uow.referrals.rows.values()
        if r.call_id == call.call_id and r.status not in (ReferralStatus.WITHDRAWN,)
    ]


def decision(sequence: int | None, minutes: int = 0, event_id: uuid.UUID | None = None) -> TriageDecision:
    return TriageDecision(
        event_id or uuid.uuid4(),
        uuid.uuid4(),
        uuid.uuid4(),
        sequence,
        MONDAY_10AM + timedelta(minutes=minutes),
        TriageCode.D,
        Disposition.APPOINTMENT,
    )


def test_decisions_are_ordered_by_sequence_then_by_when_they_were_made() -> None:
    assert order_against(decision(1), None) is Ordering.NEWER
    assert order_against(decision(3), decision(2)) is Ordering.NEWER
    assert order_against(decision(2), decision(3)) is Ordering.OLDER
    assert order_against(decision(2), decision(2)) is Ordering.REPEAT
    # A producer without sequences: the decision made later is the newer.
    assert order_against(decision(None, minutes=5), decision(None, minutes=1)) is Ordering.NEWER
    assert order_against(decision(None, minutes=1), decision(None, minutes=5)) is Ordering.OLDER
    same = uuid.uuid4()
    assert order_against(decision(1, event_id=same), decision(1, event_id=same)) is Ordering.REPEAT


def test_a_decision_that_supersedes_nothing_is_the_calls_first() -> None:
    first = TriageDecision.of(
        event_id=uuid.uuid4(),
        call_id=uuid.uuid4(),
        correlation_id=uuid.uuid4(),
        decision_sequence=None,
        supersedes=None,
        decided_at=MONDAY_10AM,
        triage_code=TriageCode.E,
        disposition=Disposition.APPOINTMENT,
    )
    assert first.sequence == 1


async def test_retriage_from_refer_to_appointment_withdraws_the_referral_and_back_to_refer_makes_a_new_one(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    call = Call()
    await act_on_triage_decision(call.decision(1, Disposition.REFER, CMHT), uow, ctx)
    [first] = open_referrals(uow, call)
    appointment = call.decision(2, Disposition.APPOINTMENT, code=TriageCode.D)
    await act_on_triage_decision(appointment, uow, ctx)
    withdrawn = uow.one(ReferralWithdrawn)
    assert withdrawn.data.referral_id == first.referral_id
    assert withdrawn.data.reason is ReferralWithdrawnReason.RETRIAGED
    assert withdrawn.data.call_id == call.call_id
    assert withdrawn.causation_id == appointment.cause.event_id
    assert withdrawn.correlation_id == call.episode.correlation_id
    stored = uow.referrals.rows[first.referral_id]
    assert stored.status is ReferralStatus.WITHDRAWN
    assert (stored.withdrawn_at, stored.withdrawal_event_id) == (MONDAY_10AM, withdrawn.event_id)
    assert open_referrals(uow, call) == []

    await act_on_triage_decision(call.decision(3, Disposition.REFER, CMHT), uow, ctx)
    [again] = open_referrals(uow, call)
    assert again.referral_id != first.referral_id
    assert again.status is ReferralStatus.MADE
    assert len(uow.events_of(ReferralMade)) == 2


@pytest.mark.parametrize("arrival", list(itertools.permutations((1, 2, 3))))
async def test_any_arrival_order_ends_with_the_newest_decisions_referral_open(
    arrival: tuple[int, ...], uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    call = Call()
    decisions = {
        1: call.decision(1, Disposition.REFER, CMHT),
        2: call.decision(2, Disposition.APPOINTMENT, code=TriageCode.D),
        3: call.decision(3, Disposition.REFER, TT),
    }
    for number in arrival:
        await act_on_triage_decision(decisions[number], uow, ctx)
    [still_open] = open_referrals(uow, call)
    assert still_open.destination is TT
    applied = await uow.decisions.applied_for(call.call_id)
    assert applied is not None
    assert applied.sequence == 3
    # Every decision that arrived after a newer one was recorded as ignored, and only those.
    late = {n for i, n in enumerate(arrival) if any(m > n for m in arrival[:i])}
    assert {i.decision.sequence for i in uow.decisions.ignored.values()} == late
    for ignored in uow.decisions.ignored.values():
        assert ignored.ordering is Ordering.OLDER
        assert (ignored.applied.sequence or 0) > (ignored.decision.sequence or 0)
    # Decision 1 is applied (its referral made, then withdrawn) only when it arrives first.
    assert len(uow.events_of(ReferralWithdrawn)) == (1 if arrival[0] == 1 else 0)


async def test_refer_appointment_refer_delivered_1_3_2_leaves_decision_3s_referral_open(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    """The brief's case, to the same destination: the open referral decision 3 asks for is kept."""
    call = Call()
    one, two, three = (
        call.decision(1, Disposition.REFER, CMHT),
        call.decision(2, Disposition.APPOINTMENT, code=TriageCode.D),
        call.decision(3, Disposition.REFER, CMHT),
    )
    for command in (one, three, two):
        await act_on_triage_decision(command, uow, ctx)
    [referral] = open_referrals(uow, call)
    assert referral.destination is CMHT
    assert referral.status is ReferralStatus.MADE
    assert uow.types() == ["referral.made"]  # never withdrawn, never made twice
    [ignored] = uow.decisions.ignored.values()
    assert ignored.decision.event_id == two.cause.event_id
    assert (ignored.decision.disposition, ignored.applied.event_id) == (
        Disposition.APPOINTMENT,
        three.cause.event_id,
    )


async def test_retriage_to_escalate_withdraws_the_referral(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    call = Call()
    await act_on_triage_decision(call.decision(1, Disposition.REFER, CMHT), uow, ctx)
    await act_on_triage_decision(call.decision(2, Disposition.ESCALATE, code=TriageCode.A), uow, ctx)
    assert open_referrals(uow, call) == []
    assert uow.types() == ["referral.made", "referral.withdrawn"]


async def test_retriage_to_another_destination_withdraws_one_and_refers_to_the_other(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    call = Call()
    await act_on_triage_decision(call.decision(1, Disposition.REFER, CMHT), uow, ctx)
    await act_on_triage_decision(call.decision(2, Disposition.REFER, TT), uow, ctx)
    [referral] = open_referrals(uow, call)
    assert referral.destination is TT
    assert uow.types() == ["referral.made", "referral.withdrawn", "referral.made"]


async def test_a_recorded_signpost_stays_when_the_call_is_retriaged(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    """Signposting is a past fact (the patient was told); only the case's current decision changes."""
    call = Call()
    await act_on_triage_decision(call.decision(1, Disposition.SIGNPOST, TT, code=TriageCode.G), uow, ctx)
    await act_on_triage_decision(call.decision(2, Disposition.APPOINTMENT, code=TriageCode.C), uow, ctx)
    await act_on_triage_decision(call.decision(3, Disposition.SIGNPOST, TT, code=TriageCode.G), uow, ctx)
    assert len(uow.signposts.rows) == 1
    assert [type(e) for e in uow.events] == [SignpostRecorded]
    # The call's current decision is its newest: its code, not the earlier C, is the episode's.
    assert await uow.decisions.triage_code_for_episode(call.episode.correlation_id) is TriageCode.G


async def test_decisions_without_sequences_are_applied_in_the_order_they_were_made(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    call = Call()
    later = call.decision(None, Disposition.REFER, TT, minutes_after=30)
    earlier = replace(call.decision(None, Disposition.REFER, CMHT, minutes_after=0), supersedes=None)
    later = replace(later, supersedes=earlier.cause.event_id)
    await act_on_triage_decision(later, uow, ctx)
    await act_on_triage_decision(earlier, uow, ctx)
    [referral] = open_referrals(uow, call)
    assert referral.destination is TT
    [ignored] = uow.decisions.ignored.values()
    assert ignored.decision.event_id == earlier.cause.event_id


async def test_a_withdrawn_referral_cannot_be_accepted_by_the_receiving_service(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    call = Call()
    await act_on_triage_decision(call.decision(1, Disposition.REFER, CMHT), uow, ctx)
    [referral] = open_referrals(uow, call)
    await act_on_triage_decision(call.decision(2, Disposition.APPOINTMENT, code=TriageCode.D), uow, ctx)
    with pytest.raises(InvalidTransition, match="withdrawn"):
        await accept_referral(AcceptReferral(referral.referral_id), uow, ctx)


async def test_a_decision_applied_concurrently_for_the_call_is_retried_not_overwritten(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    call = Call()
    await act_on_triage_decision(call.decision(1, Disposition.REFER, CMHT), uow, ctx)
    stale = await uow.decisions.applied_for(call.call_id)
    await act_on_triage_decision(call.decision(3, Disposition.REFER, TT), uow, ctx)
    second = TriageDecision.of(
        event_id=uuid.uuid4(),
        call_id=call.call_id,
        correlation_id=call.episode.correlation_id,
        decision_sequence=2,
        supersedes=uuid.uuid4(),
        decided_at=MONDAY_10AM,
        triage_code=TriageCode.D,
        disposition=Disposition.APPOINTMENT,
    )
    with pytest.raises(DecisionRaced):
        await uow.decisions.apply(second, replacing=stale, at=MONDAY_10AM)
