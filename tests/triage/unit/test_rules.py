"""Triage rules without I/O: working-time callback deadlines, scope, dispositions and worklist priority."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.triage.domain.deadlines import CallbackPolicy, CallbackTarget, deadline_breached
from services.triage.domain.intake import Priority, worklist_priority
from services.triage.domain.mhts import (
    ContactOutcome,
    DecisionInput,
    InvalidDecision,
    Outcome,
    triage_outcome,
)
from shared.contracts.codes import (
    CallerUrgency,
    Channel,
    Destination,
    Disposition,
    EscalationTarget,
    OutOfScopeReason,
    TriageCode,
)
from shared.working_time import LONDON, WorkingCalendar, WorkingHours

HOURS = WorkingHours()
POLICY = CallbackPolicy()


def london(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LONDON)


# --- callback deadlines ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (london(2026, 11, 16, 10), london(2026, 11, 16, 12)),  # inside hours
        (london(2026, 11, 16, 16, 30), london(2026, 11, 16, 18, 30)),  # ends exactly at closing
        (london(2026, 11, 16, 17, 30), london(2026, 11, 17, 9)),  # 1h today, 1h tomorrow
        (london(2026, 11, 16, 6), london(2026, 11, 16, 10)),  # before opening: clock starts at 08:00
        (london(2026, 11, 20, 18), london(2026, 11, 23, 9, 30)),  # Friday evening: Monday morning
        (london(2026, 11, 21, 12), london(2026, 11, 23, 10)),  # Saturday: Monday 08:00 + 2h
    ],
)
def test_telephone_callback_is_due_two_working_hours_after_the_call(
    received: datetime, expected: datetime
) -> None:
    assert POLICY.callback_due("U00123", Channel.TELEPHONE, received) == expected


def test_e_consultation_callback_is_due_one_working_day_later_skipping_the_weekend() -> None:
    friday = london(2026, 11, 20, 10)
    assert POLICY.callback_due("U00123", Channel.E_CONSULTATION, friday) == london(2026, 11, 23, 10)


def test_working_time_crosses_the_clock_change_in_local_hours() -> None:
    # Clocks went back on Sunday 25 October 2026: Friday 17:30 BST + 2h is Monday 09:00 GMT.
    due = POLICY.callback_due("U00123", Channel.TELEPHONE, london(2026, 10, 23, 17, 30))
    assert due == london(2026, 10, 26, 9)
    assert due.astimezone(UTC) == datetime(2026, 10, 26, 9, tzinfo=UTC)


def test_bank_holiday_is_not_working_time() -> None:
    hours = WorkingHours(calendar=WorkingCalendar(closed_days=frozenset({date(2026, 12, 25)})))
    policy = CallbackPolicy(hours=hours)
    due = policy.callback_due("U00123", Channel.TELEPHONE, london(2026, 12, 24, 18))
    assert due == london(2026, 12, 28, 9, 30)  # 25th closed, 26-27 weekend


def test_pcn_override_replaces_the_default_target_for_that_pcn_only() -> None:
    policy = CallbackPolicy(pcn_targets={"U00999": {Channel.TELEPHONE: CallbackTarget.parse("1h")}})
    start = london(2026, 11, 16, 10)
    assert policy.callback_due("U00999", Channel.TELEPHONE, start) == london(2026, 11, 16, 11)
    assert policy.callback_due("U00123", Channel.TELEPHONE, start) == london(2026, 11, 16, 12)


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("2h", CallbackTarget(minutes=120)),
        ("90m", CallbackTarget(minutes=90)),
        ("1d", CallbackTarget(days=1)),
        ("1d2h", CallbackTarget(days=1, minutes=120)),
    ],
)
def test_callback_target_is_parsed_from_short_text(text: str, target: CallbackTarget) -> None:
    assert CallbackTarget.parse(text) == target


@pytest.mark.parametrize("text", ["", "0h", "2 hours", "-1h", "h"])
def test_callback_target_that_is_not_a_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="callback target"):
        CallbackTarget.parse(text)


def test_deadline_is_met_exactly_at_its_limit_and_breached_just_after() -> None:
    due = datetime(2026, 11, 16, 12, tzinfo=UTC)
    assert not deadline_breached(due, due)
    assert deadline_breached(due, due + timedelta(microseconds=1))


# --- identity at intake ---------------------------------------------------------------------------


# --- worklist priority ----------------------------------------------------------------------------


# Which reasons have red flags: tests/triage/unit/test_red_flags.py and its corpus.


def test_red_flags_put_a_call_first_whatever_the_caller_says() -> None:
    assert worklist_priority(True, CallerUrgency.ROUTINE) == Priority.RED_FLAGS
    assert worklist_priority(True, CallerUrgency.URGENT) == Priority.RED_FLAGS


def test_caller_urgency_ranks_above_routine_but_below_red_flags() -> None:
    assert worklist_priority(False, CallerUrgency.URGENT) == Priority.CALLER_URGENT
    assert worklist_priority(False, CallerUrgency.ROUTINE) == Priority.ROUTINE


# --- decisions ------------------------------------------------------------------------------------

CALLED = london(2026, 11, 16, 10)
DECIDED = datetime(2026, 11, 16, 11, tzinfo=UTC)


def _outcome(decision: DecisionInput, *, born: date = date(1985, 6, 1)) -> Outcome:
    return triage_outcome(decision, date_of_birth=born, called_at=CALLED, decided_at=DECIDED)


@pytest.mark.parametrize(
    ("born", "reason"),
    [
        (date(2008, 11, 17), OutOfScopeReason.UNDER_18),  # 17: eighteenth birthday is tomorrow
        (date(2008, 11, 16), None),  # 18 on the day of the call
        (date(1960, 11, 17), None),  # 65: sixty-sixth birthday is tomorrow
        (date(1960, 11, 16), OutOfScopeReason.OVER_65),  # 66 on the day of the call
    ],
)
def test_age_on_the_day_of_the_call_decides_scope_17_and_66_out_18_and_65_in(
    born: date, reason: OutOfScopeReason | None
) -> None:
    outcome = _outcome(DecisionInput(TriageCode.D, "mhp.1"), born=born)
    assert outcome.out_of_scope_reason is reason
    expected = Disposition.APPOINTMENT if reason is None else Disposition.OUT_OF_SCOPE
    assert outcome.disposition is expected


@pytest.mark.parametrize(
    ("code", "target", "respond_by"),
    [
        (TriageCode.A, EscalationTarget.EMERGENCY_SERVICES, DECIDED),
        (TriageCode.B, EscalationTarget.CRISIS_TEAM, DECIDED + timedelta(hours=4)),
    ],
)
def test_codes_a_and_b_escalate_even_when_an_appointment_is_asked_for(
    code: TriageCode, target: EscalationTarget, respond_by: datetime
) -> None:
    outcome = _outcome(DecisionInput(code, "mhp.1", disposition=Disposition.APPOINTMENT))
    assert outcome.disposition is Disposition.ESCALATE
    assert outcome.escalate_to is target
    assert outcome.appointment_minutes is None
    assert outcome.respond_by == respond_by
    assert outcome.out_of_scope_reason is OutOfScopeReason.CRISIS
    assert outcome.notes
    assert "never given an MHP appointment" in outcome.notes[0]


def test_code_a_escalates_for_a_child_too() -> None:
    outcome = _outcome(DecisionInput(TriageCode.A, "mhp.1"), born=date(2012, 1, 1))
    assert outcome.escalate_to is EscalationTarget.EMERGENCY_SERVICES


@pytest.mark.parametrize(
    ("code", "hours", "disposition"),
    [
        (TriageCode.C, 24, Disposition.URGENT_APPOINTMENT),
        (TriageCode.D, 72, Disposition.APPOINTMENT),
        (TriageCode.E, 24 * 28, Disposition.APPOINTMENT),
    ],
)
def test_appointment_codes_take_their_deadline_from_the_uk_mhts_table(
    code: TriageCode, hours: int, disposition: Disposition
) -> None:
    outcome = _outcome(DecisionInput(code, "mhp.1"))
    assert outcome.disposition is disposition
    assert outcome.respond_by == DECIDED + timedelta(hours=hours)
    assert outcome.appointment_minutes == 30


def test_complex_patient_gets_a_sixty_minute_appointment() -> None:
    outcome = _outcome(DecisionInput(TriageCode.D, "mhp.1", complex_needs=True))
    assert outcome.appointment_minutes == 60


def test_low_level_need_is_redirected_to_talking_therapies_self_referral() -> None:
    outcome = _outcome(DecisionInput(TriageCode.E, "mhp.1", low_level_need=True))
    assert outcome.disposition is Disposition.OUT_OF_SCOPE
    assert outcome.out_of_scope_reason is OutOfScopeReason.LOW_LEVEL_NEED
    assert outcome.destination is Destination.TALKING_THERAPIES
    assert outcome.contact_outcome is ContactOutcome.NON_URGENT_REFERRAL_NHS


@pytest.mark.parametrize(
    ("decision", "field"),
    [
        (DecisionInput(TriageCode.F, "m", disposition=Disposition.APPOINTMENT), "disposition"),
        (DecisionInput(TriageCode.G, "m", disposition=Disposition.ESCALATE), "disposition"),
        (DecisionInput(TriageCode.C, "m", disposition=Disposition.SIGNPOST), "disposition"),
        (DecisionInput(TriageCode.D, "m", disposition=Disposition.OUT_OF_SCOPE), "disposition"),
        (DecisionInput(TriageCode.C, "m", low_level_need=True), "low_level_need"),
    ],
)
def test_decision_that_contradicts_its_code_is_refused_naming_the_field(
    decision: DecisionInput, field: str
) -> None:
    with pytest.raises(InvalidDecision) as refused:
        _outcome(decision)
    assert refused.value.field == field
    assert decision.triage_code.value in refused.value.message or "out_of_scope" in refused.value.message


@pytest.mark.parametrize(
    ("code", "disposition", "destination"),
    [
        (TriageCode.F, Disposition.REFER, None),
        (TriageCode.F, Disposition.SIGNPOST, Destination.TALKING_THERAPIES),
        (TriageCode.G, Disposition.ADVICE, None),
    ],
)
def test_f_and_g_have_no_deadline_and_no_appointment(
    code: TriageCode, disposition: Disposition, destination: Destination | None
) -> None:
    outcome = _outcome(DecisionInput(code, "mhp.1", disposition=disposition))
    assert outcome.disposition is disposition
    assert outcome.respond_by is None
    assert outcome.appointment_minutes is None
    assert outcome.destination is destination
