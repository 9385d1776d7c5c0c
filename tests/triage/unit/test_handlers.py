"""Triage's command handlers and queries against the in-memory unit of work: no broker, no database."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from services.triage.application.commands import EscalateOverdueCalls, RecordDecision
from services.triage.application.context import TriageContext
from services.triage.application.handlers import escalate_overdue_calls, receive_call, record_decision
from services.triage.application.queries import call_with_decisions, worklist
from services.triage.domain.call import Call, CallIdReused, CallNotFound, CallStatus, Decided
from services.triage.domain.intake import ImplausibleIdentity
from services.triage.domain.mhts import DecisionInput, InvalidDecision, RiskFormulation
from services.triage.entrypoints.amqp import receive_call_command
from shared.contracts.codes import CallerUrgency, Disposition, EscalationReason, EscalationTarget, TriageCode
from shared.contracts.v1 import CallReceived, CallTriaged, CaseEscalated
from tests.support.clock import MONDAY_10AM, FakeClock
from tests.support.factories import call_received
from tests.triage.unit.fakes import FakeTriageUnitOfWork

DUE = MONDAY_10AM + timedelta(hours=2)


async def take_in(uow: FakeTriageUnitOfWork, ctx: TriageContext, event: CallReceived) -> CallReceived:
    await receive_call(receive_call_command(event), uow, ctx)
    return event


async def decide(
    uow: FakeTriageUnitOfWork,
    ctx: TriageContext,
    call_id: uuid.UUID,
    code: TriageCode,
    *,
    clinician: str = "mhp.1",
    disposition: Disposition | None = None,
    risk: RiskFormulation | None = None,
) -> Decided:
    decision = DecisionInput(code, clinician, disposition=disposition, risk=risk)
    return await record_decision(RecordDecision(call_id, decision), uow, ctx)


# --- ReceiveCall ----------------------------------------------------------------------------------


async def test_a_received_call_is_stored_awaiting_triage_with_its_deadline(
    uow: FakeTriageUnitOfWork, ctx: TriageContext
) -> None:
    event = await take_in(uow, ctx, call_received(occurred_at=MONDAY_10AM))
    call = uow.calls.rows[event.data.call_id]
    assert call.status is CallStatus.AWAITING_TRIAGE
    assert call.callback_due_at == DUE
    assert call.received_event_id == event.event_id
    assert call.nhs_number == event.data.patient.nhs_number
    assert uow.events == []  # intake publishes nothing


async def test_the_same_call_resent_under_a_new_event_id_is_one_call(
    uow: FakeTriageUnitOfWork, ctx: TriageContext
) -> None:
    event = await take_in(uow, ctx, call_received(occurred_at=MONDAY_10AM))
    await take_in(uow, ctx, event.model_copy(update={"event_id": uuid.uuid4()}))
    assert list(uow.calls.rows) == [event.data.call_id]
    assert uow.calls.rows[event.data.call_id].received_event_id == event.event_id


async def test_a_call_id_reused_for_another_patient_is_refused_and_the_first_kept(
    uow: FakeTriageUnitOfWork, ctx: TriageContext
) -> None:
    first = await take_in(uow, ctx, call_received(occurred_at=MONDAY_10AM, date_of_birth=date(1980, 1, 1)))
    with pytest.raises(CallIdReused):
        await take_in(uow, ctx, call_received(call_id=first.data.call_id, occurred_at=MONDAY_10AM))
    assert uow.calls.rows[first.data.call_id].date_of_birth == date(1980, 1, 1)


async def test_a_call_with_an_implausible_identity_is_refused_and_not_stored(
    uow: FakeTriageUnitOfWork, ctx: TriageContext
) -> None:
    # The contract refuses such a date too; the domain does not rely on it.
    command = replace(
        receive_call_command(call_received(occurred_at=MONDAY_10AM)), date_of_birth=date(1890, 1, 1)
    )
    with pytest.raises(ImplausibleIdentity):
        await receive_call(command, uow, ctx)
    assert uow.calls.rows == {}


# --- RecordDecision -------------------------------------------------------------------------------


async def test_a_decision_on_an_unknown_call_is_call_not_found(
    uow: FakeTriageUnitOfWork, ctx: TriageContext
) -> None:
    unknown = uuid.uuid4()
    with pytest.raises(CallNotFound) as refused:
        await decide(uow, ctx, unknown, TriageCode.D)
    assert f"no call {unknown} has been received by triage" in refused.value.reason


async def test_a_decision_is_stored_and_stages_call_triaged_in_the_calls_journey(
    uow: FakeTriageUnitOfWork, ctx: TriageContext, clock: FakeClock
) -> None:
    event = await take_in(uow, ctx, call_received(occurred_at=MONDAY_10AM))
    clock.now = MONDAY_10AM + timedelta(minutes=30)
    risk = RiskFormulation("passive thoughts, no plan", thoughts=True)
    decided = await decide(uow, ctx, event.data.call_id, TriageCode.D, risk=risk)
    [triaged] = uow.events
    assert isinstance(triaged, CallTriaged)
    assert triaged.event_id == decided.decision.event_id
    assert (triaged.correlation_id, triaged.causation_id) == (event.correlation_id, event.event_id)
    assert triaged.occurred_at == clock.now
    assert triaged.data.respond_by == clock.now + timedelta(hours=72)
    assert triaged.data.supersedes is None
    assert "passive thoughts" not in triaged.model_dump_json()  # the formulation stays in triage
    assert uow.decisions.rows[decided.decision.decision_id].risk == risk
    call = uow.calls.rows[event.data.call_id]
    assert (call.status, call.latest_decision_id) == (CallStatus.TRIAGED, decided.decision.decision_id)


@pytest.mark.parametrize(
    ("code", "target"),
    [(TriageCode.A, EscalationTarget.EMERGENCY_SERVICES), (TriageCode.B, EscalationTarget.CRISIS_TEAM)],
)
async def test_codes_a_and_b_stage_a_risk_escalation_caused_by_the_call_triaged(
    uow: FakeTriageUnitOfWork, ctx: TriageContext, code: TriageCode, target: EscalationTarget
) -> None:
    event = await take_in(uow, ctx, call_received(occurred_at=MONDAY_10AM))
    decided = await decide(uow, ctx, event.data.call_id, code, disposition=Disposition.APPOINTMENT)
    [triaged] = uow.events_of(CallTriaged)
    [escalated] = uow.events_of(CaseEscalated)
    assert escalated.data.target is target
    assert escalated.data.reason is EscalationReason.RISK
    assert escalated.causation_id == triaged.event_id
    assert escalated.event_id == decided.decision.escalation_event_id
    assert triaged.data.disposition is Disposition.ESCALATE
    assert decided.outcome.notes


async def test_a_re_triage_supersedes_the_current_decision_in_store_and_on_the_wire(
    uow: FakeTriageUnitOfWork, ctx: TriageContext, clock: FakeClock
) -> None:
    event = await take_in(uow, ctx, call_received(occurred_at=MONDAY_10AM))
    first = await decide(uow, ctx, event.data.call_id, TriageCode.E)
    clock.advance(timedelta(hours=1))
    second = await decide(uow, ctx, event.data.call_id, TriageCode.C, clinician="mhp.2")
    later = uow.events_of(CallTriaged)[-1]
    assert later.data.supersedes == first.decision.event_id
    assert second.decision.supersedes == first.decision.decision_id
    assert uow.decisions.rows[first.decision.decision_id].superseded_by == second.decision.decision_id
    trail = await call_with_decisions(uow, event.data.call_id)
    assert [(d.triage_code, d.clinician) for d in trail.decisions] == [
        (TriageCode.E, "mhp.1"),
        (TriageCode.C, "mhp.2"),
    ]
    assert trail.call.latest_decision_id == second.decision.decision_id


async def test_a_contradictory_decision_writes_and_stages_nothing(
    uow: FakeTriageUnitOfWork, ctx: TriageContext
) -> None:
    event = await take_in(uow, ctx, call_received(occurred_at=MONDAY_10AM))
    with pytest.raises(InvalidDecision) as refused:
        await decide(uow, ctx, event.data.call_id, TriageCode.C, disposition=Disposition.ADVICE)
    assert refused.value.field == "disposition"
    assert (uow.decisions.rows, uow.events) == ({}, [])
    assert uow.calls.rows[event.data.call_id].status is CallStatus.AWAITING_TRIAGE


# --- EscalateOverdueCalls -------------------------------------------------------------------------


async def test_an_overdue_call_is_escalated_to_the_duty_gp_once(
    uow: FakeTriageUnitOfWork, ctx: TriageContext, clock: FakeClock
) -> None:
    event = await take_in(uow, ctx, call_received(occurred_at=MONDAY_10AM))
    clock.now = DUE
    assert await escalate_overdue_calls(EscalateOverdueCalls(), uow, ctx) == 0  # met at its limit
    clock.now = DUE + timedelta(seconds=1)
    assert await escalate_overdue_calls(EscalateOverdueCalls(), uow, ctx) == 1
    clock.advance(timedelta(hours=3))
    assert await escalate_overdue_calls(EscalateOverdueCalls(), uow, ctx) == 0
    [escalated] = uow.events_of(CaseEscalated)
    assert escalated.data.target is EscalationTarget.DUTY_GP
    assert escalated.data.reason is EscalationReason.TRIAGE_DEADLINE_BREACH
    assert escalated.data.due_at == DUE
    assert escalated.correlation_id == event.correlation_id
    call = uow.calls.rows[event.data.call_id]
    assert (call.escalated_at, call.escalation_event_id) == (DUE + timedelta(seconds=1), escalated.event_id)


async def test_a_triaged_call_is_never_escalated(
    uow: FakeTriageUnitOfWork, ctx: TriageContext, clock: FakeClock
) -> None:
    event = await take_in(uow, ctx, call_received(occurred_at=MONDAY_10AM))
    await decide(uow, ctx, event.data.call_id, TriageCode.E)
    clock.now = DUE + timedelta(days=3)
    assert await escalate_overdue_calls(EscalateOverdueCalls(), uow, ctx) == 0
    assert uow.events_of(CaseEscalated) == []


async def test_a_call_claimed_by_another_instance_meanwhile_stages_no_second_escalation(
    uow: FakeTriageUnitOfWork, ctx: TriageContext, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = await take_in(uow, ctx, call_received(occurred_at=MONDAY_10AM))
    clock.now = DUE + timedelta(minutes=1)
    seen = await uow.calls.overdue(clock.now, 10)  # read before the other instance commits

    async def read_before_the_other_commit(now: datetime, limit: int) -> Sequence[Call]:
        return seen

    monkeypatch.setattr(uow.calls, "overdue", read_before_the_other_commit)
    uow.calls.rows[event.data.call_id].escalated_at = clock.now  # the other instance committed first
    assert await escalate_overdue_calls(EscalateOverdueCalls(), uow, ctx) == 0
    assert uow.events == []


async def test_one_pass_escalates_at_most_its_limit_earliest_deadline_first(
    uow: FakeTriageUnitOfWork, ctx: TriageContext, clock: FakeClock
) -> None:
    events = [
        await take_in(uow, ctx, call_received(occurred_at=MONDAY_10AM + timedelta(minutes=m)))
        for m in (30, 0, 10)
    ]
    clock.now = DUE + timedelta(hours=1)
    assert await escalate_overdue_calls(EscalateOverdueCalls(limit=2), uow, ctx) == 2
    assert [e.data.call_id for e in uow.events_of(CaseEscalated)] == [
        events[1].data.call_id,
        events[2].data.call_id,
    ]
    assert await escalate_overdue_calls(EscalateOverdueCalls(limit=2), uow, ctx) == 1


# --- queries --------------------------------------------------------------------------------------


async def test_the_worklist_orders_red_flags_then_urgency_then_wait_within_the_pcn_or_practice(
    uow: FakeTriageUnitOfWork, ctx: TriageContext
) -> None:
    routine = await take_in(uow, ctx, call_received(occurred_at=MONDAY_10AM - timedelta(minutes=50)))
    urgent_event = call_received(occurred_at=MONDAY_10AM - timedelta(minutes=10))
    urgent_data = urgent_event.data.model_copy(update={"caller_urgency": CallerUrgency.URGENT})
    urgent = await take_in(uow, ctx, urgent_event.model_copy(update={"data": urgent_data}))
    red_flag = await take_in(uow, ctx, call_received(reason="took an overdose", occurred_at=MONDAY_10AM))
    other_practice = await take_in(uow, ctx, call_received(practice_ods="Y01235", occurred_at=MONDAY_10AM))
    await take_in(uow, ctx, call_received(pcn_code="U00999", occurred_at=MONDAY_10AM))
    triaged = await take_in(uow, ctx, call_received(occurred_at=MONDAY_10AM))
    await decide(uow, ctx, triaged.data.call_id, TriageCode.G)

    now = MONDAY_10AM + timedelta(hours=1)
    items = await worklist(uow, pcn_code="U00123", practice_ods="Y01234", now=now)
    assert [i.call.call_id for i in items] == [e.data.call_id for e in (red_flag, urgent, routine)]
    assert [i.waiting_minutes for i in items] == [60, 70, 110]
    assert [i.deadline_breached for i in items] == [False, False, False]
    whole_pcn = await worklist(uow, pcn_code="U00123", practice_ods=None, now=now)
    assert other_practice.data.call_id in {i.call.call_id for i in whole_pcn}
    assert len(whole_pcn) == 4
    # A page is a slice of the same order: pages neither repeat nor skip a call.
    pages = [
        await worklist(uow, pcn_code="U00123", practice_ods=None, now=now, offset=o, limit=3) for o in (0, 3)
    ]
    assert [len(p) for p in pages] == [3, 1]
    assert [i.call.call_id for p in pages for i in p] == [i.call.call_id for i in whole_pcn]


async def test_the_audit_trail_of_an_unknown_call_is_call_not_found(uow: FakeTriageUnitOfWork) -> None:
    with pytest.raises(CallNotFound):
        await call_with_decisions(uow, uuid.uuid4())
