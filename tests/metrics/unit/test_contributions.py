"""A fact's share of the kept figures: the deadline's two states and their exact instants, the month a late
event corrects, and the difference applied when a fact changes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.metrics.domain.contributions import (
    PCN_SCOPE,
    call_contribution,
    changed_samples,
    count_delta,
    escalation_contribution,
)
from services.metrics.domain.deadlines import deadline_status
from services.metrics.domain.facts import AppointmentFact, CallFact, EscalationFact
from services.metrics.domain.kinds import DeadlineStatus
from tests.metrics.unit.builders import PCN, PRACTICE

SECOND = timedelta(seconds=1)
TRIAGED = datetime(2026, 9, 30, 9, 0, tzinfo=UTC)
RESPOND_BY = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)


def call(**changes: object) -> CallFact:
    fact = CallFact(
        uuid.uuid4(),
        PCN,
        PRACTICE,
        channel="telephone",
        received_at=TRIAGED - timedelta(minutes=20),
        first_triaged_at=TRIAGED,
        triaged_at=TRIAGED,
        triage_code="D",
        disposition="appointment",
        respond_by=RESPOND_BY,
    )
    for name, value in changes.items():
        setattr(fact, name, value)
    return fact


def appointment(of: CallFact, starts_at: datetime) -> AppointmentFact:
    return AppointmentFact(uuid.uuid4(), PCN, PRACTICE, call_id=of.call_id, starts_at=starts_at, minutes=30)


def test_a_case_seen_inside_its_deadline_is_met_from_the_instant_it_starts() -> None:
    c = call()
    starts = RESPOND_BY - timedelta(hours=3)
    case = call_contribution(c, [appointment(c, starts)]).deadline
    assert case is not None
    assert (case.status(starts - SECOND), case.status(starts)) == (DeadlineStatus.PENDING, DeadlineStatus.MET)
    for at in (starts - SECOND, starts, RESPOND_BY + SECOND):
        assert case.status(at) == deadline_status(RESPOND_BY, starts, at)


def test_an_unseen_case_breaches_one_second_after_its_deadline_in_the_month_of_the_deadline() -> None:
    c = call(waitlisted_at=TRIAGED + timedelta(hours=1))
    shares = call_contribution(c, [])
    case = shares.deadline
    assert case is not None
    assert case.month == "2026-10"  # triaged in September, due in October: October's breach
    assert case.status(RESPOND_BY) == DeadlineStatus.AT_RISK
    assert case.status(RESPOND_BY + SECOND) == DeadlineStatus.BREACHED
    assert shares.counts[(PCN_SCOPE, "2026-10", "response_times.D.after.breached")] == 1
    assert shares.counts[(PRACTICE, "2026-09", "response_times.D.triaged")] == 1
    assert shares.waiting is not None
    assert shares.waiting.first_starts_at is None


def test_a_case_booked_after_its_deadline_is_at_risk_until_it_passes() -> None:
    c = call()
    late = RESPOND_BY + timedelta(hours=5)
    case = call_contribution(c, [appointment(c, late)]).deadline
    assert case is not None
    for at in (RESPOND_BY - SECOND, RESPOND_BY, RESPOND_BY + SECOND, late):
        assert case.status(at) == deadline_status(RESPOND_BY, late, at)
    assert case.status(late) == DeadlineStatus.BREACHED


def test_a_late_acknowledgement_corrects_the_month_the_escalation_was_raised_in() -> None:
    raised = datetime(2026, 10, 31, 22, 0, tzinfo=UTC)
    open_ = EscalationFact(uuid.uuid4(), PCN, PRACTICE, occurred_at=raised, reason="risk", target="duty_gp")
    acknowledged = EscalationFact(**{**open_.__dict__, "acknowledged_at": raised + timedelta(days=20)})
    old, new = escalation_contribution(open_), escalation_contribution(acknowledged)
    assert count_delta(old, new) == {(PCN_SCOPE, "2026-10", "acknowledgement.acknowledged"): 1}
    assert changed_samples(old, new) == {
        (PCN_SCOPE, "2026-10", "acknowledgement.median_minutes_to_acknowledge")
    }
    assert count_delta(new, new) == {}
