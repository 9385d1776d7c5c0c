"""Every call.triaged carries its place in the call's decisions, so consumers can apply only the newest."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.triage.application.commands import RecordDecision
from services.triage.application.context import TriageContext
from services.triage.application.handlers import receive_call, record_decision
from services.triage.domain.call import MAX_DECISIONS
from services.triage.domain.mhts import DecisionInput
from services.triage.entrypoints.amqp import receive_call_command
from shared.contracts.codes import TriageCode
from shared.contracts.v1 import CallTriaged
from shared.errors import RuleViolation
from tests.support.clock import MONDAY_10AM, FakeClock
from tests.support.factories import call_received
from tests.triage.unit.fakes import FakeTriageUnitOfWork
from tests.triage.unit.test_call import new_call


def sequences(uow: FakeTriageUnitOfWork) -> list[int | None]:
    return [e.data.decision_sequence for e in uow.events if isinstance(e, CallTriaged)]


async def test_decisions_are_numbered_1_2_3_and_an_identical_repeat_keeps_the_number(
    uow: FakeTriageUnitOfWork, ctx: TriageContext, clock: FakeClock
) -> None:
    event = call_received(occurred_at=MONDAY_10AM)
    await receive_call(receive_call_command(event), uow, ctx)
    call_id = event.data.call_id
    for code in (TriageCode.E, TriageCode.D, TriageCode.D, TriageCode.C):  # the second D repeats the first
        clock.advance(timedelta(minutes=5))
        await record_decision(RecordDecision(call_id, DecisionInput(code, "mhp.1")), uow, ctx)
    assert sequences(uow) == [1, 2, 3]
    assert uow.calls.rows[call_id].decision_sequence == 3
    stored = [(d.triage_code, d.decision_sequence) for d in await uow.decisions.of_call(call_id)]
    assert stored == [(TriageCode.E, 1), (TriageCode.D, 2), (TriageCode.C, 3)]


def test_a_repeated_decision_changes_neither_the_calls_number_nor_the_current_decision() -> None:
    call = new_call()
    first = call.decide(DecisionInput(TriageCode.D, "mhp.1"), current=None, decided_at=MONDAY_10AM).decision
    repeat = call.decide(DecisionInput(TriageCode.D, "mhp.2"), current=first, decided_at=MONDAY_10AM)
    assert repeat.repeated
    assert (call.decision_sequence, repeat.decision.decision_sequence) == (1, 1)


def test_a_call_past_the_contracts_bound_on_decisions_is_refused_unchanged() -> None:
    call = new_call()
    first = call.decide(DecisionInput(TriageCode.D, "mhp.1"), current=None, decided_at=MONDAY_10AM).decision
    worn = replace(first, decision_sequence=MAX_DECISIONS)
    call.decision_sequence = MAX_DECISIONS
    with pytest.raises(RuleViolation, match=f"at most {MAX_DECISIONS} decisions"):
        call.decide(DecisionInput(TriageCode.C, "mhp.1"), current=worn, decided_at=MONDAY_10AM)
    assert (call.latest_decision_id, call.decision_sequence) == (first.decision_id, MAX_DECISIONS)
