"""A decision identical to the call's current one is a retry, not a re-triage (issue 20).

Identical = the same clinical decision: code, disposition, modality, appointment length, complex needs,
scope and destination, contact outcome and risk formulation. The clinician and the time do not count.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.triage.application.commands import RecordDecision
from services.triage.application.context import TriageContext
from services.triage.application.handlers import receive_call, record_decision
from services.triage.domain.call import Call, ConcurrentDecision, Decided, Decision
from services.triage.domain.deadlines import CallbackPolicy
from services.triage.domain.mhts import DecisionInput, RiskFormulation
from services.triage.entrypoints.amqp import receive_call_command
from shared.contracts.codes import CallerUrgency, Channel, Disposition, Modality, TriageCode
from shared.contracts.v1 import CallTriaged, CaseEscalated
from tests.support.clock import MONDAY_10AM, FakeClock
from tests.support.factories import call_received
from tests.triage.unit.fakes import SHIPPED_RED_FLAGS, FakeTriageUnitOfWork

RISK = RiskFormulation("passive thoughts, no plan", thoughts=True, protective_factors=True)


def new_call() -> Call:
    return Call.receive(
        call_id=uuid.uuid4(),
        correlation_id=uuid.uuid4(),
        received_event_id=uuid.uuid4(),
        pcn_code="U00123",
        practice_ods="Y01234",
        channel=Channel.TELEPHONE,
        caller_urgency=CallerUrgency.ROUTINE,
        reason="low mood",
        nhs_number="9434765919",
        date_of_birth=MONDAY_10AM.date().replace(year=1985),
        received_at=MONDAY_10AM,
        callbacks=CallbackPolicy(),
        red_flags=SHIPPED_RED_FLAGS,
    )


def first_and_then(first: DecisionInput, then: DecisionInput) -> tuple[Call, Decision, Decided]:
    call = new_call()
    current = call.decide(first, current=None, decided_at=MONDAY_10AM + timedelta(minutes=10)).decision
    later = call.decide(then, current=current, decided_at=MONDAY_10AM + timedelta(minutes=11))
    return call, current, later


@pytest.mark.parametrize(
    ("first", "then"),
    [
        (DecisionInput(TriageCode.D, "mhp.1", risk=RISK), DecisionInput(TriageCode.D, "mhp.1", risk=RISK)),
        (DecisionInput(TriageCode.D, "mhp.1"), DecisionInput(TriageCode.D, "mhp.2")),  # a colleague agrees
        (
            DecisionInput(TriageCode.D, "mhp.1"),
            DecisionInput(
                TriageCode.D, "mhp.1", disposition=Disposition.APPOINTMENT, modality=Modality.TELEPHONE
            ),
        ),  # the defaults, spelt out
        (
            DecisionInput(TriageCode.A, "mhp.1"),
            DecisionInput(TriageCode.A, "mhp.1", disposition=Disposition.APPOINTMENT),
        ),  # A is escalated whatever was asked
    ],
)
def test_the_same_clinical_decision_again_is_repeated_and_changes_nothing(
    first: DecisionInput, then: DecisionInput
) -> None:
    call, current, later = first_and_then(first, then)
    assert later.repeated
    assert later.decision is current
    assert later.superseded is None
    assert current.superseded_by is None
    assert call.latest_decision_id == current.decision_id
    assert current.clinician == "mhp.1"
    assert current.decided_at == MONDAY_10AM + timedelta(minutes=10)
    assert "nothing changed" in later.outcome.notes[-1]


def test_a_repeat_keeps_the_first_respond_by_deadline() -> None:
    _, current, later = first_and_then(DecisionInput(TriageCode.C, "m"), DecisionInput(TriageCode.C, "m"))
    assert later.decision.respond_by == current.respond_by == MONDAY_10AM + timedelta(minutes=10, hours=24)


@pytest.mark.parametrize(
    "then",
    [
        DecisionInput(TriageCode.C, "mhp.1"),  # another code
        DecisionInput(TriageCode.D, "mhp.1", disposition=Disposition.URGENT_APPOINTMENT),
        DecisionInput(TriageCode.D, "mhp.1", modality=Modality.VIDEO),
        DecisionInput(TriageCode.D, "mhp.1", complex_needs=True),  # a 60-minute appointment
        DecisionInput(TriageCode.D, "mhp.1", risk=RISK),  # a formulation added
        DecisionInput(TriageCode.D, "mhp.1", risk=RiskFormulation(RISK.summary, thoughts=True)),
    ],
)
def test_any_clinical_difference_is_a_re_triage_that_supersedes(then: DecisionInput) -> None:
    call, current, later = first_and_then(DecisionInput(TriageCode.D, "mhp.1"), then)
    assert not later.repeated
    assert later.decision.supersedes == current.decision_id
    assert current.superseded_by == later.decision.decision_id
    assert call.latest_decision_id == later.decision.decision_id


def test_going_back_to_an_earlier_decision_is_a_re_triage_not_a_repeat() -> None:
    call = new_call()
    e1 = call.decide(DecisionInput(TriageCode.E, "m"), current=None, decided_at=MONDAY_10AM).decision
    c = call.decide(DecisionInput(TriageCode.C, "m"), current=e1, decided_at=MONDAY_10AM).decision
    e2 = call.decide(DecisionInput(TriageCode.E, "m"), current=c, decided_at=MONDAY_10AM)
    assert not e2.repeated
    assert e2.decision.supersedes == c.decision_id


@pytest.mark.parametrize("code", [TriageCode.D, TriageCode.A])
async def test_a_retried_decision_stages_no_event_and_stores_no_decision(
    uow: FakeTriageUnitOfWork, ctx: TriageContext, clock: FakeClock, code: TriageCode
) -> None:
    event = call_received(occurred_at=MONDAY_10AM)
    await receive_call(receive_call_command(event), uow, ctx)
    command = RecordDecision(event.data.call_id, DecisionInput(code, "mhp.1", risk=RISK))
    first = await record_decision(command, uow, ctx)
    staged = list(uow.events)
    clock.advance(timedelta(minutes=2))
    retried = await record_decision(command, uow, ctx)
    assert retried.repeated
    assert retried.decision.decision_id == first.decision.decision_id
    assert retried.decision.event_id == first.decision.event_id
    assert uow.events == staged  # no second call.triaged, no second case.escalated
    assert len(uow.events_of(CallTriaged)) == 1
    assert len(uow.events_of(CaseEscalated)) == (1 if code is TriageCode.A else 0)
    assert list(uow.decisions.rows) == [first.decision.decision_id]
    assert uow.decisions.rows[first.decision.decision_id].superseded_by is None


async def test_of_two_decisions_racing_on_one_call_only_the_first_to_commit_counts(
    uow: FakeTriageUnitOfWork, ctx: TriageContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = call_received(occurred_at=MONDAY_10AM)
    await receive_call(receive_call_command(event), uow, ctx)
    read_before_the_first_commit = await uow.calls.get(event.data.call_id)
    first = await record_decision(
        RecordDecision(event.data.call_id, DecisionInput(TriageCode.D, "a")), uow, ctx
    )

    async def stale(call_id: uuid.UUID) -> Call | None:
        return read_before_the_first_commit

    monkeypatch.setattr(uow.calls, "get", stale)
    with pytest.raises(ConcurrentDecision):
        await record_decision(RecordDecision(event.data.call_id, DecisionInput(TriageCode.C, "b")), uow, ctx)
    assert uow.calls.rows[event.data.call_id].latest_decision_id == first.decision.decision_id
