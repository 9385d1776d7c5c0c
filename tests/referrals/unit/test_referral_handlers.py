"""Referral command handlers on the in-memory unit of work: what each stages and stores."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

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
from services.referrals.application.handlers.referrals import (
    NotTheReferralsService,
    accept_referral,
    act_on_attendance,
    act_on_triage_decision,
    complete_referral,
    decline_referral,
    redirect_referral,
)
from services.referrals.domain.episode import Episode
from services.referrals.domain.lifecycle import InvalidTransition, ReferralStatus
from services.referrals.domain.referral import Referral
from shared.contracts.codes import (
    Destination,
    Disposition,
    NextStep,
    OutOfScopeReason,
    ReferralDeclineReason,
)
from shared.contracts.v1 import (
    CaseEscalated,
    ReferralAccepted,
    ReferralCompleted,
    ReferralDeclined,
    ReferralMade,
    SignpostRecorded,
)
from tests.referrals.unit.fakes import LEAD, PCN, PRACTICE, FakeReferralsUnitOfWork
from tests.support.clock import MONDAY_10AM

CMHT = Destination.COMMUNITY_MENTAL_HEALTH_TEAM
SERVICE_UNAVAILABLE = ReferralDeclineReason.SERVICE_UNAVAILABLE
OUTSIDE_CATCHMENT = ReferralDeclineReason.OUTSIDE_CATCHMENT


def cause() -> Cause:
    return Cause(uuid.uuid4(), Episode(PCN, PRACTICE, uuid.uuid4()))


def triaged(
    disposition: Disposition, destination: Destination | None = None, **kw: Any
) -> ActOnTriageDecision:
    return ActOnTriageDecision(
        uuid.uuid4(), disposition, destination, kw.get("reason"), kw.get("cause", cause())
    )


async def referred(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext, destination: Destination = CMHT
) -> Referral:
    command = triaged(Disposition.REFER, destination)
    await act_on_triage_decision(command, uow, ctx)
    [referral] = [r for r in uow.referrals.rows.values() if r.call_id == command.call_id]
    uow.events.clear()
    return referral


async def test_refer_disposition_refers_to_the_first_service_of_the_default_kind(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    command = triaged(Disposition.REFER)
    await act_on_triage_decision(command, uow, ctx)
    [referral] = uow.referrals.rows.values()
    made = uow.one(ReferralMade)
    assert (referral.destination, referral.service_code, referral.status) == (
        CMHT,
        "cmht-east",
        ReferralStatus.MADE,
    )
    assert referral.source_event_id == command.cause.event_id
    assert made.event_id == referral.made_event_id
    assert made.causation_id == command.cause.event_id
    assert made.correlation_id == command.cause.episode.correlation_id
    assert made.producer == "RMH/referrals"
    assert made.occurred_at == MONDAY_10AM
    assert made.data.destination_service == "cmht-east"


async def test_the_same_call_resent_under_a_new_event_id_is_not_referred_or_signposted_twice(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    refer = triaged(Disposition.REFER)
    signpost = triaged(Disposition.SIGNPOST, Destination.TALKING_THERAPIES)
    for command in (refer, signpost):
        await act_on_triage_decision(command, uow, ctx)
        await act_on_triage_decision(ActOnTriageDecision(**{**vars(command), "cause": cause()}), uow, ctx)
    assert len(uow.referrals.rows) == 1
    assert len(uow.signposts.rows) == 1
    assert uow.types() == ["referral.made", "signpost.recorded"]


async def test_out_of_scope_is_recorded_as_a_redirecting_signpost(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    await act_on_triage_decision(
        triaged(Disposition.OUT_OF_SCOPE, reason=OutOfScopeReason.UNDER_18), uow, ctx
    )
    [signpost] = uow.signposts.rows
    recorded = uow.one(SignpostRecorded)
    assert signpost.destination is Destination.CHILDREN_AND_YOUNG_PEOPLE
    assert recorded.data.out_of_scope_reason is OutOfScopeReason.UNDER_18
    assert recorded.data.signpost_id == signpost.signpost_id
    assert recorded.event_id == signpost.event_id


async def test_escalate_and_appointment_dispositions_change_nothing_here(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    for disposition in (Disposition.ESCALATE, Disposition.APPOINTMENT):
        await act_on_triage_decision(triaged(disposition), uow, ctx)
    assert (uow.events, uow.referrals.rows, uow.signposts.rows) == ([], {}, [])


async def test_a_kind_with_no_service_stays_unplaced_and_the_lead_is_told(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    await act_on_triage_decision(triaged(Disposition.REFER, Destination.DUTY_GP), uow, ctx)
    [referral] = uow.referrals.rows.values()
    assert referral.status is ReferralStatus.UNPLACED
    escalated = uow.one(CaseEscalated)
    assert (escalated.data.referral_id, escalated.data.assigned_to) == (referral.referral_id, LEAD)
    assert uow.events_of(ReferralMade) == []


async def test_attendance_refers_once_and_only_for_a_referral_next_step(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    appointment = uuid.uuid4()
    for _ in range(2):
        command = ActOnAttendance(appointment, NextStep.REFERRAL, Destination.SOCIAL_PRESCRIBING, cause())
        await act_on_attendance(command, uow, ctx)
    await act_on_attendance(ActOnAttendance(uuid.uuid4(), NextStep.DISCHARGE, None, cause()), uow, ctx)
    [referral] = uow.referrals.rows.values()
    assert (referral.appointment_id, referral.service_code) == (appointment, "spl")
    assert uow.one(ReferralMade).data.appointment_id == appointment


async def test_a_response_through_the_api_is_published_for_the_receiving_service(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    referral = await referred(uow, ctx)
    await accept_referral(AcceptReferral(referral.referral_id), uow, ctx)
    await complete_referral(CompleteReferral(referral.referral_id), uow, ctx)
    stored = uow.referrals.rows[referral.referral_id]
    assert stored.status is ReferralStatus.COMPLETED
    assert stored.accepted_at == stored.completed_at == MONDAY_10AM
    accepted, completed = uow.one(ReferralAccepted), uow.one(ReferralCompleted)
    assert accepted.causation_id == completed.causation_id == referral.made_event_id


async def test_a_response_from_the_bus_is_applied_but_not_republished_and_a_repeat_is_a_no_op(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    referral = await referred(uow, ctx)
    for _ in range(2):
        await accept_referral(AcceptReferral(referral.referral_id, cause()), uow, ctx)
    assert uow.referrals.rows[referral.referral_id].status is ReferralStatus.ACCEPTED
    assert uow.events == []


async def test_an_answer_from_an_organisation_the_referral_was_not_made_to_changes_nothing(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    """The broker proves the answering organisation; referrals proves the referral was made to it."""
    referral = await referred(uow, ctx)
    elsewhere = replace(cause(), answered_by="RXY")
    with pytest.raises(NotTheReferralsService):
        await accept_referral(AcceptReferral(referral.referral_id, elsewhere), uow, ctx)
    command = DeclineReferral(referral.referral_id, SERVICE_UNAVAILABLE, "no capacity", elsewhere)
    with pytest.raises(NotTheReferralsService):
        await decline_referral(command, uow, ctx)
    assert uow.referrals.rows[referral.referral_id].status is ReferralStatus.MADE
    assert uow.events == []
    await accept_referral(AcceptReferral(referral.referral_id, replace(cause(), answered_by="RX4")), uow, ctx)
    assert uow.referrals.rows[referral.referral_id].status is ReferralStatus.ACCEPTED


async def test_a_repeated_response_through_the_api_is_refused(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    referral = await referred(uow, ctx)
    await accept_referral(AcceptReferral(referral.referral_id), uow, ctx)
    with pytest.raises(InvalidTransition, match="already accepted; nothing to change"):
        await accept_referral(AcceptReferral(referral.referral_id), uow, ctx)


async def test_an_unknown_referral_is_not_found(uow: FakeReferralsUnitOfWork, ctx: ReferralsContext) -> None:
    with pytest.raises(ReferralNotFound):
        await complete_referral(CompleteReferral(uuid.uuid4()), uow, ctx)


async def test_decline_through_the_api_reroutes_then_leaves_it_unplaced_for_the_lead(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    first = await referred(uow, ctx)
    await decline_referral(DeclineReferral(first.referral_id, SERVICE_UNAVAILABLE, "no capacity"), uow, ctx)
    declined = uow.one(ReferralDeclined)
    [second] = [r for r in uow.referrals.rows.values() if r.previous_referral_id == first.referral_id]
    assert second.service_code == "cmht-west"
    assert second.source_event_id == declined.event_id  # the decline caused the re-route
    assert uow.one(ReferralMade).causation_id == declined.event_id
    bounced = uow.one(CaseEscalated)
    assert (bounced.data.referral_id, bounced.data.assigned_to) == (first.referral_id, LEAD)
    stored = uow.referrals.rows[first.referral_id]
    assert (stored.status, stored.rerouted_to, stored.decline_reason) == (
        ReferralStatus.DECLINED,
        second.referral_id,
        "service_unavailable: no capacity",
    )
    assert stored.decline_reason_code is SERVICE_UNAVAILABLE
    assert (declined.data.reason_code, declined.data.reason) == (SERVICE_UNAVAILABLE, "no capacity")

    uow.events.clear()
    await decline_referral(DeclineReferral(second.referral_id, OUTSIDE_CATCHMENT), uow, ctx)
    assert uow.referrals.rows[second.referral_id].status is ReferralStatus.UNPLACED
    assert uow.types() == ["referral.declined", "case.escalated"]  # nowhere left: no third referral
    # With no free text the code stands in `reason`, which 1.0 consumers read.
    assert uow.one(ReferralDeclined).data.reason == "outside_catchment"


async def test_a_decline_from_the_bus_reroutes_once_however_often_it_comes(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    first = await referred(uow, ctx)
    for _ in range(2):
        await decline_referral(DeclineReferral(first.referral_id, None, "needs CMHT", cause()), uow, ctx)
    assert len(uow.referrals.rows) == 2
    assert uow.types() == ["referral.made", "case.escalated"]


async def test_redirect_sends_an_unplaced_referral_to_another_kind_of_service(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    unplaced = await referred(uow, ctx, Destination.DUTY_GP)
    with pytest.raises(InvalidTransition, match="no duty_gp service left"):
        await redirect_referral(
            RedirectReferral(unplaced.referral_id, Destination.DUTY_GP, "lead.1"), uow, ctx
        )
    command = RedirectReferral(unplaced.referral_id, Destination.TALKING_THERAPIES, "lead.1")
    new = await redirect_referral(command, uow, ctx)
    assert (new.service_code, new.previous_referral_id) == ("tt-north", unplaced.referral_id)
    assert uow.referrals.rows[unplaced.referral_id].status is ReferralStatus.REDIRECTED
    assert uow.one(ReferralMade).data.previous_referral_id == unplaced.referral_id
    with pytest.raises(InvalidTransition, match="only an unplaced referral"):
        await redirect_referral(command, uow, ctx)
