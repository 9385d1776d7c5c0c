"""Working-time arithmetic on incoming event times never overflows (issue 20: occurred_at 0001-01-01).

The contract accepts instants from 2000-01-01 to two years ahead; every value in that window, with any
configurable callback target, gives a deadline. Outside it the domain refuses with a rule, never with an
OverflowError that would be retried.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.triage.domain.call import Call
from services.triage.domain.deadlines import MAX_TARGET_DAYS, CallbackPolicy, CallbackTarget
from services.triage.domain.mhts import DecisionInput
from shared.contracts.codes import CallerUrgency, Channel, TriageCode
from shared.contracts.text import EARLIEST_INSTANT, LATEST_AHEAD, check_instant
from shared.errors import RuleViolation
from shared.working_time import WorkingCalendar, WorkingHours
from tests.triage.unit.fakes import SHIPPED_RED_FLAGS

LATEST = datetime.now(UTC) + LATEST_AHEAD - timedelta(seconds=1)
LONGEST = CallbackTarget.parse(f"{MAX_TARGET_DAYS}d")
# The strictest calendar the settings allow: one working day a week and every Sunday closed for years.
SPARSE = WorkingCalendar(
    weekdays=frozenset({6}),
    closed_days=frozenset(date(2000, 1, 2) + timedelta(weeks=w) for w in range(52 * 4)),
)


def receive(received_at: datetime, policy: CallbackPolicy, born: date = date(1985, 6, 1)) -> Call:
    return Call.receive(
        call_id=uuid.uuid4(),
        correlation_id=uuid.uuid4(),
        received_event_id=uuid.uuid4(),
        pcn_code="U00123",
        practice_ods="Y01234",
        channel=Channel.E_CONSULTATION,
        caller_urgency=CallerUrgency.ROUTINE,
        reason="low mood",
        nhs_number="9434765919",
        date_of_birth=born,
        received_at=received_at,
        callbacks=policy,
        red_flags=SHIPPED_RED_FLAGS,
    )


POLICIES = {
    "default": CallbackPolicy(),
    "longest target": CallbackPolicy(targets={Channel.E_CONSULTATION: LONGEST}),
    "longest in minutes": CallbackPolicy(
        targets={Channel.E_CONSULTATION: CallbackTarget(minutes=MAX_TARGET_DAYS * 24 * 60)}
    ),
    "sparse calendar": CallbackPolicy(
        hours=WorkingHours(calendar=SPARSE), targets={Channel.E_CONSULTATION: LONGEST}
    ),
}


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES.keys())
@pytest.mark.parametrize(
    "received_at",
    [EARLIEST_INSTANT, EARLIEST_INSTANT + timedelta(days=1, hours=23, minutes=59), LATEST],
    ids=["earliest (a Saturday)", "the Sunday night after it", "latest"],
)
def test_every_instant_the_contract_accepts_gets_a_deadline_and_a_decision(
    received_at: datetime, policy: CallbackPolicy
) -> None:
    assert check_instant(received_at) == received_at  # valid on the wire
    call = receive(received_at, policy, born=received_at.date().replace(year=received_at.year - 40))
    assert call.callback_due_at > received_at
    decided = call.decide(DecisionInput(TriageCode.E, "m"), current=None, decided_at=received_at)
    assert decided.decision.respond_by == received_at + timedelta(days=28)


@pytest.mark.parametrize(
    "received_at",
    [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)],
    ids=["year-1", "year-9999"],
)
@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES.keys())
def test_an_instant_no_contract_accepts_is_a_rule_violation_not_an_overflow(
    received_at: datetime, policy: CallbackPolicy
) -> None:
    with pytest.raises(RuleViolation, match="occurred_at"):
        receive(received_at, policy, born=date(1, 1, 1) if received_at.year == 1 else date(9950, 1, 1))


@pytest.mark.parametrize("text", [f"{MAX_TARGET_DAYS + 1}d", "1441h", "99999999999d"])
def test_a_callback_target_beyond_the_bound_is_refused_at_start_up(text: str) -> None:
    with pytest.raises(ValueError, match=f"at most {MAX_TARGET_DAYS} days"):
        CallbackTarget.parse(text)
