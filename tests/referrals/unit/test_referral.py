"""The referral aggregate: placing, responses, re-routing after a decline, redirection, chasing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.referrals.domain import events
from services.referrals.domain.deadlines import Deadlines
from services.referrals.domain.episode import Episode
from services.referrals.domain.lifecycle import InvalidTransition, ReferralStatus, Response, decline_note
from services.referrals.domain.referral import Referral
from shared.contracts.codes import Destination, EscalationReason, EscalationTarget, ReferralDeclineReason
from shared.errors import RuleViolation
from tests.support.clock import MONDAY_10AM

EPISODE = Episode("U00123", "Y01234", uuid.uuid4())
DEADLINES = Deadlines()
CMHT = Destination.COMMUNITY_MENTAL_HEALTH_TEAM


def made(
    service_code: str | None = "cmht-east", **kwargs: object
) -> tuple[Referral, list[events.DomainEvent]]:
    return Referral.make(
        episode=EPISODE,
        destination=CMHT,
        service_code=service_code,
        source_event_id=uuid.uuid4(),
        now=MONDAY_10AM,
        deadlines=DEADLINES,
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_placed_referral_is_sent_with_a_response_due_five_working_days_later() -> None:
    call_id = uuid.uuid4()
    referral, happened = made(call_id=call_id)
    [sent] = happened
    assert isinstance(sent, events.ReferralSent)
    assert (sent.referral_id, sent.service_code, sent.call_id) == (referral.referral_id, "cmht-east", call_id)
    assert referral.status is ReferralStatus.MADE
    assert referral.root_referral_id == referral.referral_id
    assert referral.made_event_id == sent.event_id
    assert referral.response_due_at == MONDAY_10AM + timedelta(days=7)


def test_with_no_service_of_the_kind_it_stays_unplaced_and_goes_to_the_clinical_lead() -> None:
    referral, happened = made(service_code=None)
    [escalated] = happened
    assert isinstance(escalated, events.Escalated)
    assert (escalated.target, escalated.reason) == (
        EscalationTarget.PRACTICE_CLINICAL_LEAD,
        EscalationReason.BOUNCED_REFERRAL,
    )
    assert referral.status is ReferralStatus.UNPLACED
    assert referral.needs_clinical_lead
    assert referral.response_due_at is None
    assert referral.made_event_id is None


def test_responses_stamp_their_time_and_a_repeat_changes_nothing() -> None:
    referral, _ = made()
    later = MONDAY_10AM + timedelta(hours=1)
    assert referral.respond(Response.ACCEPT, later)
    assert (referral.status, referral.accepted_at) == (ReferralStatus.ACCEPTED, later)
    assert not referral.respond(Response.ACCEPT, later + timedelta(hours=1))
    assert referral.accepted_at == later
    assert referral.respond(Response.COMPLETE, later)
    assert referral.completed_at == later


def test_a_decline_keeps_its_reason_cut_to_the_column_and_defaults_to_not_given() -> None:
    referral, _ = made()
    assert referral.respond(Response.DECLINE, MONDAY_10AM, reason="x" * 300)
    assert referral.decline_reason == "x" * 200
    other, _ = made()
    other.respond(Response.DECLINE, MONDAY_10AM)
    assert other.decline_reason == "not given"


def test_a_decline_keeps_its_code_then_the_free_text_beside_it() -> None:
    referral, _ = made()
    code = ReferralDeclineReason.OUTSIDE_CATCHMENT
    referral.respond(Response.DECLINE, MONDAY_10AM, reason_code=code, reason="lives in the next county")
    assert referral.decline_reason == "outside_catchment: lives in the next county"
    assert referral.decline_reason_code is code
    assert decline_note(code, None) == "outside_catchment"
    assert decline_note(code, "y" * 300) == ("outside_catchment: " + "y" * 300)[:200]


def test_a_free_text_only_decline_from_a_1_0_producer_has_no_code() -> None:
    referral, _ = made()
    referral.respond(Response.DECLINE, MONDAY_10AM, reason="needs CMHT: urgent")
    assert referral.decline_reason == "needs CMHT: urgent"
    assert referral.decline_reason_code is None


def test_a_contradicting_response_is_a_rule_violation_and_changes_nothing() -> None:
    referral, _ = made()
    with pytest.raises(InvalidTransition, match="accept it before completing it") as refused:
        referral.respond(Response.COMPLETE, MONDAY_10AM)
    assert isinstance(refused.value, RuleViolation)
    assert referral.status is ReferralStatus.MADE
    assert referral.completed_at is None


def test_reroute_after_a_decline_makes_the_next_referral_of_the_chain_and_tells_the_lead() -> None:
    first, _ = made()
    first.respond(Response.DECLINE, MONDAY_10AM, reason="no capacity")
    cause = uuid.uuid4()
    second, happened = first.reroute("cmht-west", cause_id=cause, now=MONDAY_10AM, deadlines=DEADLINES)
    assert second is not None
    sent, escalated = happened
    assert isinstance(sent, events.ReferralSent)
    assert isinstance(escalated, events.Escalated)
    assert (second.previous_referral_id, second.root_referral_id) == (first.referral_id, first.referral_id)
    assert (second.service_code, second.source_event_id) == ("cmht-west", cause)
    assert sent.previous_referral_id == first.referral_id
    assert first.rerouted_to == second.referral_id
    assert first.status is ReferralStatus.DECLINED
    assert escalated.referral_id == first.referral_id
    assert first.bounce_escalation_event_id == escalated.event_id


def test_with_nowhere_left_a_declined_referral_stays_open_unplaced() -> None:
    referral, _ = made()
    referral.respond(Response.DECLINE, MONDAY_10AM)
    rerouted, happened = referral.reroute(None, cause_id=uuid.uuid4(), now=MONDAY_10AM, deadlines=DEADLINES)
    assert rerouted is None
    assert [type(e) for e in happened] == [events.Escalated]
    assert referral.status is ReferralStatus.UNPLACED
    assert referral.rerouted_to is None


def test_only_an_unplaced_referral_is_redirected_and_only_to_a_service_left_to_try() -> None:
    placed, _ = made()
    with pytest.raises(InvalidTransition, match="only an unplaced referral"):
        placed.redirect(
            Destination.TALKING_THERAPIES, "tt", clinician="lead.1", now=MONDAY_10AM, deadlines=DEADLINES
        )
    unplaced, _ = made(service_code=None)
    with pytest.raises(InvalidTransition, match="no talking_therapies service left to try for PCN U00123"):
        unplaced.redirect(
            Destination.TALKING_THERAPIES, None, clinician="lead.1", now=MONDAY_10AM, deadlines=DEADLINES
        )
    assert unplaced.status is ReferralStatus.UNPLACED


def test_a_redirect_closes_the_unplaced_referral_and_refers_to_the_new_kind() -> None:
    unplaced, _ = made(service_code=None)
    new, happened = unplaced.redirect(
        Destination.TALKING_THERAPIES, "tt-north", clinician="lead.1", now=MONDAY_10AM, deadlines=DEADLINES
    )
    [sent] = happened
    assert isinstance(sent, events.ReferralSent)
    assert (new.destination, new.service_code, new.status) == (
        Destination.TALKING_THERAPIES,
        "tt-north",
        ReferralStatus.MADE,
    )
    assert (unplaced.status, unplaced.rerouted_to, unplaced.redirected_by) == (
        ReferralStatus.REDIRECTED,
        new.referral_id,
        "lead.1",
    )
    assert new.source_event_id != unplaced.source_event_id


def test_a_made_referral_is_due_for_chase_only_after_its_due_instant_and_once() -> None:
    referral, _ = made()
    assert referral.response_due_at is not None
    assert not referral.due_for_chase(referral.response_due_at)
    late = referral.response_due_at + timedelta(seconds=1)
    assert referral.due_for_chase(late)
    chase = referral.escalate_overdue(late)
    assert (chase.reason, chase.due_at, chase.referral_id) == (
        EscalationReason.REFERRAL_UNANSWERED,
        referral.response_due_at,
        referral.referral_id,
    )
    assert (referral.chased_at, referral.chase_event_id) == (late, chase.event_id)
    assert not referral.due_for_chase(late + timedelta(days=1))


def test_an_accepted_referral_is_never_chased() -> None:
    referral, _ = made()
    referral.respond(Response.ACCEPT, MONDAY_10AM)
    assert not referral.due_for_chase(MONDAY_10AM + timedelta(days=30))


def test_stored_strings_become_enums() -> None:
    referral, _ = made()
    loaded = Referral(**{**vars(referral), "status": "accepted", "destination": "talking_therapies"})
    assert loaded.status is ReferralStatus.ACCEPTED
    assert loaded.destination is Destination.TALKING_THERAPIES
