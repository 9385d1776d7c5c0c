"""The escalation aggregate and its policy: deadlines by target and reason, the ladder, states, hand-over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypeAlias

import pytest

from services.referrals.domain.escalation import (
    Acknowledged,
    Escalation,
    EscalationClosed,
    EscalationState,
    Resolved,
)
from services.referrals.domain.escalation_policy import EscalationPolicy, Within
from services.referrals.settings import ReferralsSettings
from shared.contracts.codes import EscalationOutcome, EscalationReason, EscalationTarget
from tests.referrals.unit.fakes import raised
from tests.support.clock import MONDAY_10AM

T: TypeAlias = EscalationTarget
R: TypeAlias = EscalationReason
POLICY = EscalationPolicy()
FRIDAY_7PM = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
OWNERS = {T.PRACTICE_CLINICAL_LEAD: "lead.1", T.DUTY_GP: "gp.1", T.TRUST_DUTY_MANAGER: "trust.1"}


def held(target: T = T.PRACTICE_CLINICAL_LEAD, owner: str | None = "lead.1", **fields: object) -> Escalation:
    return Escalation.raise_from(raised(target, **fields), owner=owner, policy=POLICY, now=MONDAY_10AM)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("target", "reason", "start", "due"),
    [
        (T.EMERGENCY_SERVICES, R.RISK, MONDAY_10AM, MONDAY_10AM + timedelta(minutes=15)),
        (T.CRISIS_TEAM, R.RISK, MONDAY_10AM, MONDAY_10AM + timedelta(minutes=15)),
        (T.DUTY_GP, R.REPEATED_DNA, MONDAY_10AM, MONDAY_10AM + timedelta(hours=1)),
        (T.TRUST_DUTY_MANAGER, R.RISK, MONDAY_10AM, MONDAY_10AM + timedelta(hours=1)),
        (T.PLATFORM_OPERATOR, R.DEAD_LETTER, MONDAY_10AM, MONDAY_10AM + timedelta(minutes=30)),
        # A clinical lead: the close of the same working day, or of the next one when raised out of hours.
        (T.PRACTICE_CLINICAL_LEAD, R.RISK, MONDAY_10AM, datetime(2026, 11, 16, 18, 30, tzinfo=UTC)),
        (T.PRACTICE_CLINICAL_LEAD, R.RISK, FRIDAY_7PM, datetime(2026, 11, 23, 18, 30, tzinfo=UTC)),
        # A reason's deadline replaces the target's: a red flag out of hours cannot wait for Monday.
        (T.PRACTICE_CLINICAL_LEAD, R.RED_FLAG_OUT_OF_HOURS, FRIDAY_7PM, FRIDAY_7PM + timedelta(minutes=15)),
    ],
)
def test_acknowledgement_deadline_by_target_and_reason(
    target: T, reason: R, start: datetime, due: datetime
) -> None:
    assert POLICY.acknowledge_by(target, reason, start) == due


@pytest.mark.parametrize(
    ("first", "climbs"),
    [
        (T.PRACTICE_CLINICAL_LEAD, [T.DUTY_GP, T.TRUST_DUTY_MANAGER]),
        (T.DUTY_GP, [T.PRACTICE_CLINICAL_LEAD, T.TRUST_DUTY_MANAGER]),
        (T.GP, [T.PRACTICE_CLINICAL_LEAD, T.TRUST_DUTY_MANAGER]),
        (T.CRISIS_TEAM, [T.TRUST_DUTY_MANAGER]),
        (T.EMERGENCY_SERVICES, [T.TRUST_DUTY_MANAGER]),
        (T.PLATFORM_OPERATOR, [T.TRUST_DUTY_MANAGER]),
        (T.TRUST_DUTY_MANAGER, []),
    ],
)
def test_each_ladder_climbs_to_the_trust_duty_manager(first: T, climbs: list[T]) -> None:
    seen, current = [], first
    while (current := POLICY.next_target(first, current)) is not None:  # type: ignore[assignment]
        seen.append(current)
    assert seen == climbs


@pytest.mark.parametrize(
    ("ladders", "problem"),
    [
        ({T.CRISIS_TEAM: (T.DUTY_GP,)}, "must end at trust_duty_manager"),
        ({T.DUTY_GP: (T.DUTY_GP, T.TRUST_DUTY_MANAGER)}, "appears twice"),
    ],
)
def test_a_ladder_that_never_reaches_the_trust_is_refused(
    ladders: dict[T, tuple[T, ...]], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        EscalationPolicy(ladders={**POLICY.ladders, **ladders})


def test_a_target_without_a_deadline_or_a_zero_deadline_is_refused() -> None:
    without: dict[T, Within] = {t: w for t, w in POLICY.acknowledge_within.items() if t is not T.CRISIS_TEAM}
    with pytest.raises(ValueError, match="no deadline for crisis_team"):
        EscalationPolicy(acknowledge_within=without)
    with pytest.raises(ValueError, match="at least 1 minute"):
        EscalationPolicy(by_reason={R.RISK: Within(0)})


def test_the_clock_starts_when_it_happened_or_when_heard_of_if_sooner_and_the_sooner_deadline_holds() -> None:
    future = raised(T.DUTY_GP, occurred_at=MONDAY_10AM + timedelta(days=3))
    assert Escalation.raise_from(future, owner="gp.1", policy=POLICY, now=MONDAY_10AM).acknowledge_by == (
        MONDAY_10AM + timedelta(hours=1)
    )
    tighter = raised(T.DUTY_GP, acknowledge_by=MONDAY_10AM + timedelta(minutes=5))
    assert Escalation.raise_from(tighter, owner="gp.1", policy=POLICY, now=MONDAY_10AM).acknowledge_by == (
        MONDAY_10AM + timedelta(minutes=5)
    )
    looser = raised(T.DUTY_GP, acknowledge_by=MONDAY_10AM + timedelta(days=5))
    assert Escalation.raise_from(looser, owner="gp.1", policy=POLICY, now=MONDAY_10AM).acknowledge_by == (
        MONDAY_10AM + timedelta(hours=1)
    )


def test_an_escalation_nobody_is_named_for_climbs_at_the_next_pass() -> None:
    unowned = held(T.DUTY_GP, owner=None)
    assert unowned.due_to_climb(MONDAY_10AM + timedelta(seconds=1))
    climbed = unowned.climb(policy=POLICY, owner_of=OWNERS, now=MONDAY_10AM + timedelta(seconds=1))
    assert (climbed.rung, climbed.target, climbed.assigned_to) == (1, T.PRACTICE_CLINICAL_LEAD, "lead.1")


def test_climbing_keeps_the_id_and_reason_and_the_last_rung_re_alerts_the_trust_without_a_new_rung() -> None:
    escalation = held(reason=R.TRIAGE_DEADLINE_BREACH)
    now = escalation.acknowledge_by
    with pytest.raises(EscalationClosed):  # exactly due: still in time
        escalation.climb(policy=POLICY, owner_of=OWNERS, now=now)
    climbs = []
    for _ in range(4):
        now = escalation.acknowledge_by + timedelta(seconds=1)
        climbs.append(escalation.climb(policy=POLICY, owner_of=OWNERS, now=now))
    assert [(c.rung, c.target, c.assigned_to) for c in climbs] == [
        (1, T.DUTY_GP, "gp.1"),
        (2, T.TRUST_DUTY_MANAGER, "trust.1"),
        (2, T.TRUST_DUTY_MANAGER, "trust.1"),
        (2, T.TRUST_DUTY_MANAGER, "trust.1"),
    ]
    assert {c.escalation_id for c in climbs} == {escalation.escalation_id}
    assert {c.reason for c in climbs} == {R.TRIAGE_DEADLINE_BREACH}
    assert climbs[-1].acknowledge_by == now + timedelta(hours=1)
    assert escalation.last_event_id == climbs[-1].event_id
    assert [h.step for h in escalation.history] == ["raised", "climbed", "climbed", "realerted", "realerted"]


def test_acknowledged_stops_climbing_and_resolving_an_open_one_acknowledges_it_first() -> None:
    escalation = held()
    ack = escalation.acknowledge("lead.1", MONDAY_10AM)
    assert ack == Acknowledged(
        event_id=ack.event_id,
        escalation_id=escalation.escalation_id,
        acknowledged_by="lead.1",
        target=T.PRACTICE_CLINICAL_LEAD,
        rung=0,
    )
    assert not escalation.due_to_climb(MONDAY_10AM + timedelta(days=3))
    with pytest.raises(EscalationClosed, match="already acknowledged"):
        escalation.acknowledge("lead.1", MONDAY_10AM)

    direct = held()
    happened = direct.resolve("lead.1", EscalationOutcome.PATIENT_CONTACTED, "rang back", MONDAY_10AM)
    assert [type(e) for e in happened] == [Acknowledged, Resolved]
    assert (direct.state, direct.outcome, direct.note) == (
        EscalationState.RESOLVED,
        EscalationOutcome.PATIENT_CONTACTED,
        "rang back",
    )
    for act in (
        lambda: direct.resolve("lead.1", EscalationOutcome.NO_FURTHER_ACTION, None, MONDAY_10AM),
        lambda: direct.hand_over("lead.1", "gp.1", MONDAY_10AM),
    ):
        with pytest.raises(EscalationClosed, match="already resolved"):
            act()


def test_hand_over_changes_the_owner_but_not_the_state_or_the_ladders_clock() -> None:
    escalation = held()
    deadline = escalation.acknowledge_by
    escalation.hand_over("lead.1", "gp.1", MONDAY_10AM)
    assert (escalation.owner, escalation.state, escalation.acknowledge_by) == (
        "gp.1",
        EscalationState.OPEN,
        deadline,
    )
    with pytest.raises(EscalationClosed, match="already owned"):
        escalation.hand_over("gp.1", "gp.1", MONDAY_10AM)
    escalation.acknowledge("gp.1", MONDAY_10AM)
    escalation.hand_over("gp.1", "lead.1", MONDAY_10AM)
    assert (escalation.owner, escalation.state) == ("lead.1", EscalationState.ACKNOWLEDGED)
    assert [(h.step, h.by) for h in escalation.history][-1] == ("handed_over", "gp.1")


def test_a_higher_rung_from_another_service_moves_it_on_and_the_same_rung_changes_nothing() -> None:
    escalation = held()
    escalation.acknowledge("lead.1", MONDAY_10AM)
    same = raised(escalation_id=escalation.escalation_id, rung=0)
    assert not escalation.apply_higher_rung(same, owner="x", policy=POLICY, now=MONDAY_10AM)
    higher = raised(T.TRUST_DUTY_MANAGER, escalation_id=escalation.escalation_id, rung=3)
    assert escalation.apply_higher_rung(higher, owner="trust.1", policy=POLICY, now=MONDAY_10AM)
    assert (escalation.rung, escalation.target, escalation.owner, escalation.state) == (
        3,
        T.TRUST_DUTY_MANAGER,
        "trust.1",
        EscalationState.OPEN,
    )
    escalation.resolve("trust.1", EscalationOutcome.NO_FURTHER_ACTION, None, MONDAY_10AM)
    later = raised(escalation_id=escalation.escalation_id, rung=4)
    assert not escalation.apply_higher_rung(later, owner="x", policy=POLICY, now=MONDAY_10AM)


def test_deadlines_and_ladders_come_from_referrals_settings_and_a_bad_one_stops_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "REFERRALS_ESCALATION_ACKNOWLEDGE_WITHIN", '{"duty_gp": 30, "crisis_team": "end_of_working_day"}'
    )
    monkeypatch.setenv("REFERRALS_ESCALATION_ACKNOWLEDGE_WITHIN_BY_REASON", '{"safeguarding": 10}')
    monkeypatch.setenv("REFERRALS_ESCALATION_LADDERS", '{"crisis_team": ["duty_gp", "trust_duty_manager"]}')
    policy = ReferralsSettings(database_url="sqlite+aiosqlite:///:memory:").escalation_policy()
    assert policy.acknowledge_by(T.DUTY_GP, R.RISK, MONDAY_10AM) == MONDAY_10AM + timedelta(minutes=30)
    assert policy.acknowledge_by(T.CRISIS_TEAM, R.RISK, MONDAY_10AM) == datetime(
        2026, 11, 16, 18, 30, tzinfo=UTC
    )
    assert policy.acknowledge_by(T.DUTY_GP, R.SAFEGUARDING, MONDAY_10AM) == MONDAY_10AM + timedelta(
        minutes=10
    )
    assert policy.acknowledge_by(T.GP, R.RISK, MONDAY_10AM) == MONDAY_10AM + timedelta(
        hours=1
    )  # default kept
    assert policy.next_target(T.CRISIS_TEAM, T.CRISIS_TEAM) is T.DUTY_GP
    monkeypatch.setenv("REFERRALS_ESCALATION_LADDERS", '{"crisis_team": ["duty_gp"]}')
    with pytest.raises(ValueError, match="must end at trust_duty_manager"):
        ReferralsSettings(database_url="sqlite+aiosqlite:///:memory:")
    monkeypatch.setenv("REFERRALS_ESCALATION_LADDERS", "{}")
    monkeypatch.setenv("REFERRALS_ESCALATION_ACKNOWLEDGE_WITHIN", '{"duty_gp": "soon"}')
    with pytest.raises(ValueError, match="escalation_acknowledge_within"):
        ReferralsSettings(database_url="sqlite+aiosqlite:///:memory:")
