"""The call aggregate: intake, decisions that supersede, and the once-only deadline escalation."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest

from services.triage.domain.call import Call, CallIdReused, CallStatus, Decision
from services.triage.domain.deadlines import CallbackPolicy
from services.triage.domain.intake import ImplausibleIdentity, Priority
from services.triage.domain.mhts import DecisionInput, InvalidDecision
from shared.contracts.codes import CallerUrgency, Channel, Disposition, TriageCode
from shared.errors import RuleViolation
from tests.support.clock import MONDAY_10AM
from tests.triage.unit.fakes import SHIPPED_RED_FLAGS

NHS_NUMBER = "9434765919"
BORN = date(1985, 6, 1)


def new_call(
    *,
    reason: str = "low mood",
    urgency: CallerUrgency = CallerUrgency.ROUTINE,
    born: date = BORN,
    received_at: datetime = MONDAY_10AM,
) -> Call:
    return Call.receive(
        call_id=uuid.uuid4(),
        correlation_id=uuid.uuid4(),
        received_event_id=uuid.uuid4(),
        pcn_code="U00123",
        practice_ods="Y01234",
        channel=Channel.TELEPHONE,
        caller_urgency=urgency,
        reason=reason,
        nhs_number=NHS_NUMBER,
        date_of_birth=born,
        received_at=received_at,
        callbacks=CallbackPolicy(),
        red_flags=SHIPPED_RED_FLAGS,
    )


def decide(
    call: Call,
    code: TriageCode,
    current: Decision | None = None,
    *,
    clinician: str = "mhp.1",
    disposition: Disposition | None = None,
) -> Decision:
    decision = DecisionInput(code, clinician, disposition=disposition)
    return call.decide(decision, current=current, decided_at=MONDAY_10AM + timedelta(hours=1)).decision


# --- intake ---------------------------------------------------------------------------------------


def test_a_new_call_awaits_triage_with_its_deadline_and_priority() -> None:
    call = new_call(reason="hearing voices")
    assert call.status is CallStatus.AWAITING_TRIAGE
    assert call.callback_due_at == MONDAY_10AM + timedelta(hours=2)
    assert call.red_flags is True
    assert call.priority is Priority.RED_FLAGS
    assert new_call(urgency=CallerUrgency.URGENT).priority is Priority.CALLER_URGENT


def test_a_call_with_an_impossible_date_of_birth_is_refused_as_a_rule_violation() -> None:
    with pytest.raises(ImplausibleIdentity) as refused:
        new_call(born=date(2026, 11, 17))
    assert isinstance(refused.value, RuleViolation)
    assert refused.value.reason.startswith("data.patient.date_of_birth:")
    assert "2026" not in refused.value.reason


def test_the_same_call_resent_is_accepted_but_another_patient_under_its_id_is_refused() -> None:
    call = new_call()
    call.check_resent(NHS_NUMBER, BORN)
    with pytest.raises(CallIdReused, match=r"data\.call_id: already used for a different patient"):
        call.check_resent(NHS_NUMBER, date(1990, 1, 1))
    with pytest.raises(CallIdReused):
        call.check_resent("9434765870", BORN)


# --- decisions ------------------------------------------------------------------------------------


def test_a_first_decision_triages_the_call_and_supersedes_nothing() -> None:
    call = new_call()
    decision = decide(call, TriageCode.D)
    assert call.status is CallStatus.TRIAGED
    assert call.latest_decision_id == decision.decision_id
    assert decision.supersedes is None
    assert decision.disposition is Disposition.APPOINTMENT
    assert decision.respond_by == MONDAY_10AM + timedelta(hours=1 + 72)
    assert decision.escalation_event_id is None


def test_codes_a_and_b_get_an_escalation_event_id_with_their_decision() -> None:
    assert decide(new_call(), TriageCode.A).escalation_event_id is not None
    assert decide(new_call(), TriageCode.B).escalation_event_id is not None


def test_a_re_triage_supersedes_the_current_decision_both_ways() -> None:
    call = new_call()
    first = decide(call, TriageCode.E)
    second = decide(call, TriageCode.C, current=first, clinician="mhp.2")
    assert second.supersedes == first.decision_id
    assert first.superseded_by == second.decision_id
    assert call.latest_decision_id == second.decision_id
    assert second.disposition is Disposition.URGENT_APPOINTMENT


def test_a_decision_must_be_taken_against_the_calls_current_decision() -> None:
    call = new_call()
    first = decide(call, TriageCode.E)
    with pytest.raises(RuleViolation, match="current decision"):
        decide(call, TriageCode.C)  # `current` omitted: it would leave two current decisions
    stale = decide(call, TriageCode.D, current=first)
    with pytest.raises(RuleViolation):
        decide(call, TriageCode.C, current=first)
    assert call.latest_decision_id == stale.decision_id


def test_a_contradictory_decision_changes_nothing_on_the_call() -> None:
    call = new_call()
    with pytest.raises(InvalidDecision):
        decide(call, TriageCode.F, disposition=Disposition.APPOINTMENT)
    assert call.status is CallStatus.AWAITING_TRIAGE
    assert call.latest_decision_id is None


# --- deadline escalation --------------------------------------------------------------------------

DUE = MONDAY_10AM + timedelta(hours=2)


def test_an_untriaged_call_needs_escalation_only_after_its_deadline() -> None:
    call = new_call()
    assert not call.needs_deadline_escalation(DUE)
    assert call.needs_deadline_escalation(DUE + timedelta(microseconds=1))
    assert call.deadline_breached(DUE + timedelta(seconds=1))


def test_a_triaged_call_never_needs_escalation() -> None:
    call = new_call()
    decide(call, TriageCode.G)
    assert not call.needs_deadline_escalation(DUE + timedelta(days=3))


def test_a_call_is_escalated_once() -> None:
    call = new_call()
    event_id = uuid.uuid4()
    call.mark_escalated(DUE + timedelta(minutes=1), event_id)
    assert (call.escalated_at, call.escalation_event_id) == (DUE + timedelta(minutes=1), event_id)
    assert not call.needs_deadline_escalation(DUE + timedelta(hours=5))
    with pytest.raises(RuleViolation):
        call.mark_escalated(DUE + timedelta(hours=5), uuid.uuid4())


def test_a_call_cannot_be_escalated_before_its_deadline() -> None:
    with pytest.raises(RuleViolation):
        new_call().mark_escalated(DUE, uuid.uuid4())


def test_waiting_minutes_count_whole_minutes_and_never_go_negative() -> None:
    call = new_call()
    assert call.waiting_minutes(MONDAY_10AM + timedelta(minutes=5, seconds=59)) == 5
    assert call.waiting_minutes(MONDAY_10AM - timedelta(minutes=5)) == 0
