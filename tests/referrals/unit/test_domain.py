"""Pure referral rules: lifecycle transitions, what dispositions lead to, re-routing order, working days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.referrals.domain import decisions
from services.referrals.domain import follow_up as follow_ups
from services.referrals.domain.deadlines import overdue
from services.referrals.domain.directory import next_service
from services.referrals.domain.lifecycle import InvalidTransition, apply_response
from services.referrals.domain.lifecycle import ReferralStatus as S
from services.referrals.domain.lifecycle import Response as R
from shared.contracts.codes import (
    Destination,
    Disposition,
    DnaFollowUpOutcome,
    NextStep,
    OutOfScopeReason,
    SignpostOutcome,
)
from shared.working_time import WorkingCalendar

DEFAULTS = {
    "default_referral": Destination.COMMUNITY_MENTAL_HEALTH_TEAM,
    "advice_destination": Destination.VOLUNTARY_SECTOR,
}


@pytest.mark.parametrize(
    ("current", "response", "expected"),
    [
        (S.MADE, R.ACCEPT, S.ACCEPTED),
        (S.MADE, R.DECLINE, S.DECLINED),
        (S.ACCEPTED, R.COMPLETE, S.COMPLETED),
        (S.ACCEPTED, R.DECLINE, S.DECLINED),
    ],
)
def test_lifecycle_moves_made_accepted_completed_or_declined(current: S, response: R, expected: S) -> None:
    assert apply_response(current, response) is expected


@pytest.mark.parametrize(
    ("current", "response"),
    [(S.ACCEPTED, R.ACCEPT), (S.COMPLETED, R.COMPLETE), (S.DECLINED, R.DECLINE), (S.UNPLACED, R.DECLINE)],
)
def test_a_repeated_response_is_a_no_op(current: S, response: R) -> None:
    assert apply_response(current, response) is None


@pytest.mark.parametrize(
    ("current", "response", "advice"),
    [
        (S.MADE, R.COMPLETE, "accept it before completing it"),
        (S.COMPLETED, R.ACCEPT, "already completed"),
        (S.COMPLETED, R.DECLINE, "already completed"),
        (S.DECLINED, R.ACCEPT, "respond to the re-routed referral"),
        (S.UNPLACED, R.COMPLETE, "clinical lead"),
    ],
)
def test_a_response_contradicting_the_state_is_refused_with_what_to_do(
    current: S, response: R, advice: str
) -> None:
    with pytest.raises(InvalidTransition, match=advice):
        apply_response(current, response)


def test_reroute_takes_the_next_untried_service_in_directory_order() -> None:
    order = ["a", "b", "c"]
    assert next_service(order, set()) == "a"
    assert next_service(order, {"a"}) == "b"
    assert next_service(order, {"a", "b"}) == "c"
    assert next_service(order, {"a", "b", "c"}) is None
    assert next_service([], set()) is None


def test_refer_without_a_destination_goes_to_the_directory_default() -> None:
    assert decisions.triage_action(Disposition.REFER, None, None, **DEFAULTS) == decisions.MakeReferral(
        Destination.COMMUNITY_MENTAL_HEALTH_TEAM
    )
    assert decisions.triage_action(Disposition.REFER, Destination.CLINICAL_PHARMACIST, None, **DEFAULTS) == (
        decisions.MakeReferral(Destination.CLINICAL_PHARMACIST)
    )


def test_signposting_advice_and_out_of_scope_get_their_outcome_codes() -> None:
    assert decisions.triage_action(Disposition.SIGNPOST, Destination.TALKING_THERAPIES, None, **DEFAULTS) == (
        decisions.RecordSignpost(Destination.TALKING_THERAPIES, SignpostOutcome.SELF_REFERRAL_ADVISED)
    )
    assert decisions.triage_action(Disposition.SIGNPOST, Destination.VOLUNTARY_SECTOR, None, **DEFAULTS) == (
        decisions.RecordSignpost(Destination.VOLUNTARY_SECTOR, SignpostOutcome.INFORMATION_GIVEN)
    )
    assert decisions.triage_action(Disposition.ADVICE, None, None, **DEFAULTS) == (
        decisions.RecordSignpost(Destination.VOLUNTARY_SECTOR, SignpostOutcome.INFORMATION_GIVEN)
    )
    assert decisions.triage_action(Disposition.OUT_OF_SCOPE, None, OutOfScopeReason.OVER_65, **DEFAULTS) == (
        decisions.RecordSignpost(
            Destination.OLDER_ADULTS, SignpostOutcome.REDIRECTED, OutOfScopeReason.OVER_65
        )
    )


@pytest.mark.parametrize(
    "disposition", [Disposition.ESCALATE, Disposition.APPOINTMENT, Disposition.URGENT_APPOINTMENT]
)
def test_escalation_and_appointments_are_not_this_services_business(disposition: Disposition) -> None:
    assert decisions.triage_action(disposition, None, None, **DEFAULTS) is None


def test_only_a_referral_next_step_makes_a_referral_after_attendance() -> None:
    default = Destination.COMMUNITY_MENTAL_HEALTH_TEAM
    assert decisions.attendance_action(
        NextStep.REFERRAL, None, default_referral=default
    ) == decisions.MakeReferral(default)
    assert decisions.attendance_action(NextStep.FOLLOW_UP, None, default_referral=default) is None


def test_the_gp_is_told_at_the_second_dna_of_an_episode_and_only_once() -> None:
    assert not follow_ups.notify_gp_of_repeated_dna(1, already_notified=False)
    assert follow_ups.notify_gp_of_repeated_dna(2, already_notified=False)
    assert not follow_ups.notify_gp_of_repeated_dna(3, already_notified=True)


def test_contacted_and_signposted_needs_a_destination_and_only_it_takes_one() -> None:
    with pytest.raises(follow_ups.InvalidOutcome) as missing:
        follow_ups.check_follow_up_outcome(DnaFollowUpOutcome.CONTACTED_AND_SIGNPOSTED, None)
    assert missing.value.field == "signposted_to"
    with pytest.raises(follow_ups.InvalidOutcome):
        follow_ups.check_follow_up_outcome(DnaFollowUpOutcome.REBOOKED, Destination.VOLUNTARY_SECTOR)
    follow_ups.check_follow_up_outcome(
        DnaFollowUpOutcome.CONTACTED_AND_SIGNPOSTED, Destination.VOLUNTARY_SECTOR
    )


def test_working_days_skip_weekends_and_bank_holidays() -> None:
    friday = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    days = WorkingCalendar(closed_days=frozenset({date(2026, 11, 23)}))
    assert days.add_working_days(friday, 1) == datetime(
        2026, 11, 24, 15, 0, tzinfo=UTC
    )  # Monday is a bank holiday
    saturday = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    assert WorkingCalendar().add_working_days(saturday, 1) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_working_days_keep_the_local_time_across_a_clock_change() -> None:
    # Friday 27 March 2026, 10:00 GMT; the clocks go forward on Sunday 29 March.
    friday = datetime(2026, 3, 27, 10, 0, tzinfo=UTC)
    assert WorkingCalendar().add_working_days(friday, 1) == datetime(
        2026, 3, 30, 9, 0, tzinfo=UTC
    )  # 10:00 BST


def test_deadline_is_met_up_to_its_instant() -> None:
    due = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    assert not overdue(due, due)
    assert overdue(due, due.replace(second=1))
