"""DNA follow-up rules: the contact deadline in working days, outcomes, overdue escalation, repeated DNAs."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.referrals.domain import events
from services.referrals.domain.deadlines import Deadlines
from services.referrals.domain.episode import Episode
from services.referrals.domain.follow_up import DnaEpisode, DnaFollowUp, FollowUpStatus, InvalidOutcome
from services.referrals.domain.follow_up_urgency import FollowUpPolicy
from services.referrals.domain.lifecycle import InvalidTransition
from shared.contracts.codes import (
    AttendanceStatus,
    Destination,
    DnaFollowUpOutcome,
    EscalationReason,
    EscalationTarget,
    SignpostOutcome,
)
from shared.working_time import WorkingCalendar, WorkingHours
from tests.support.clock import MONDAY_10AM

EPISODE = Episode("U00123", "Y01234", uuid.uuid4())


def opened(
    missed_at: datetime = MONDAY_10AM, policy: FollowUpPolicy | None = None, now: datetime | None = None
) -> DnaFollowUp:
    return DnaFollowUp.open(
        appointment_id=uuid.uuid4(),
        attendance=AttendanceStatus.DID_NOT_ATTEND,
        dna_event_id=uuid.uuid4(),
        episode=EPISODE,
        missed_at=missed_at,
        now=now or missed_at,
        policy=policy or FollowUpPolicy(),
    )


def test_contact_is_due_two_working_days_after_the_dna_skipping_closed_days() -> None:
    assert opened().due_at == MONDAY_10AM + timedelta(days=2)
    thursday = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
    closed = WorkingCalendar(closed_days=frozenset({date(2026, 12, 25)}))
    christmas = FollowUpPolicy(hours=WorkingHours(calendar=closed))
    # Friday 25th closed, weekend: Monday 28th is the first working day, Tuesday 29th the second.
    assert opened(thursday, christmas).due_at == datetime(2026, 12, 29, 10, 0, tzinfo=UTC)


def test_a_dna_dated_ahead_of_our_clock_counts_from_when_we_heard_of_it() -> None:
    next_year = MONDAY_10AM + timedelta(days=365)
    follow_up = opened(next_year, now=MONDAY_10AM)
    assert (follow_up.opened_at, follow_up.due_at) == (MONDAY_10AM, MONDAY_10AM + timedelta(days=2))


def test_a_dna_dated_long_ago_is_overdue_at_once() -> None:
    long_ago = datetime(2001, 1, 1, 10, 0, tzinfo=UTC)
    assert opened(long_ago, now=MONDAY_10AM).due_for_escalation(MONDAY_10AM)


def test_the_chase_and_follow_up_periods_come_from_the_deadlines() -> None:
    deadlines = Deadlines(chase_after_working_days=1, dna_follow_up_working_days=3)
    assert deadlines.response_due(MONDAY_10AM) == MONDAY_10AM + timedelta(days=1)
    assert deadlines.follow_up_due(MONDAY_10AM) == MONDAY_10AM + timedelta(days=3)


def test_signposted_outcome_records_a_signpost_caused_by_the_follow_up() -> None:
    follow_up = opened()
    signpost, happened = follow_up.record_outcome(
        DnaFollowUpOutcome.CONTACTED_AND_SIGNPOSTED,
        clinician="mhp.1",
        signposted_to=Destination.VOLUNTARY_SECTOR,
        now=MONDAY_10AM,
    )
    done, given = happened
    assert isinstance(done, events.DnaFollowedUp)
    assert isinstance(given, events.SignpostGiven)
    assert signpost is not None
    assert (signpost.destination, signpost.outcome) == (
        Destination.VOLUNTARY_SECTOR,
        SignpostOutcome.INFORMATION_GIVEN,
    )
    assert signpost.source_event_id == done.event_id
    assert signpost.appointment_id == follow_up.appointment_id
    assert (follow_up.status, follow_up.recorded_by, follow_up.outcome_event_id) == (
        FollowUpStatus.DONE,
        "mhp.1",
        done.event_id,
    )


def test_safeguarding_outcome_escalates_to_the_clinical_lead() -> None:
    follow_up = opened()
    signpost, happened = follow_up.record_outcome(
        DnaFollowUpOutcome.SAFEGUARDING_ESCALATION, clinician="mhp.1", signposted_to=None, now=MONDAY_10AM
    )
    assert signpost is None
    _, escalated = happened
    assert isinstance(escalated, events.Escalated)
    assert (escalated.target, escalated.reason, escalated.appointment_id) == (
        EscalationTarget.PRACTICE_CLINICAL_LEAD,
        EscalationReason.SAFEGUARDING,
        follow_up.appointment_id,
    )


def test_an_outcome_is_recorded_once_and_must_carry_what_it_needs() -> None:
    follow_up = opened()
    with pytest.raises(InvalidOutcome):
        follow_up.record_outcome(
            DnaFollowUpOutcome.CONTACTED_AND_SIGNPOSTED,
            clinician="mhp.1",
            signposted_to=None,
            now=MONDAY_10AM,
        )
    assert follow_up.status is FollowUpStatus.OPEN
    _, happened = follow_up.record_outcome(
        DnaFollowUpOutcome.DISCHARGED_TO_GP, clinician="mhp.1", signposted_to=None, now=MONDAY_10AM
    )
    assert [type(e) for e in happened] == [events.DnaFollowedUp]
    with pytest.raises(InvalidTransition, match="already recorded as discharged_to_gp"):
        follow_up.record_outcome(
            DnaFollowUpOutcome.REBOOKED, clinician="mhp.1", signposted_to=None, now=MONDAY_10AM
        )


def test_an_open_follow_up_past_its_deadline_is_escalated_once() -> None:
    follow_up = opened()
    assert not follow_up.due_for_escalation(follow_up.due_at)
    late = follow_up.due_at + timedelta(seconds=1)
    assert follow_up.due_for_escalation(late)
    escalation = follow_up.escalate_overdue(late)
    assert (escalation.reason, escalation.due_at) == (EscalationReason.FOLLOW_UP_OVERDUE, follow_up.due_at)
    assert follow_up.escalation_event_id == escalation.event_id
    assert not follow_up.due_for_escalation(late + timedelta(days=1))


def test_a_follow_up_with_its_outcome_is_never_escalated() -> None:
    follow_up = opened()
    follow_up.record_outcome(
        DnaFollowUpOutcome.REBOOKED, clinician="mhp.1", signposted_to=None, now=MONDAY_10AM
    )
    assert not follow_up.due_for_escalation(follow_up.due_at + timedelta(days=5))


def test_the_second_dna_of_an_episode_notifies_the_gp_once() -> None:
    episode = DnaEpisode(correlation_id=EPISODE.correlation_id)
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert episode.record_dna(first, MONDAY_10AM) == []
    [notice] = episode.record_dna(second, MONDAY_10AM)
    assert isinstance(notice, events.Escalated)
    assert (notice.target, notice.reason, notice.appointment_id) == (
        EscalationTarget.GP,
        EscalationReason.REPEATED_DNA,
        second,
    )
    assert episode.gp_notice_event_id == notice.event_id
    assert episode.record_dna(third, MONDAY_10AM) == []
    assert episode.dna_count == 3
