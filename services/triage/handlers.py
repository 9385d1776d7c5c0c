"""Triage's use cases: take in a call, record an MHP decision, escalate calls past their callback target."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.triage import domain
from services.triage.models import TriageCall, TriageDecision
from shared.contracts.codes import EscalationReason, EscalationTarget
from shared.contracts.v1 import (
    CallReceived,
    CallTriaged,
    CallTriagedData,
    CaseEscalated,
    CaseEscalatedData,
)
from shared.db import Database, utcnow
from shared.logging import get_logger
from shared.messaging.consumer import Handler, PermanentFailure
from shared.messaging.outbox import add_event
from shared.watchdog import Watchdog

log = get_logger(__name__)

AWAITING_TRIAGE = "awaiting_triage"
TRIAGED = "triaged"


class CallNotFound(LookupError):
    pass


@dataclass(frozen=True)
class TriageContext:
    producer: str  # `<organisation>/triage`
    clock: Callable[[], datetime] = utcnow
    callbacks: domain.CallbackPolicy = field(default_factory=domain.CallbackPolicy)


# --- intake ---------------------------------------------------------------------------------------


def call_received_handler(ctx: TriageContext) -> Handler:
    """The `call.received` consumer, bound to this service's callback policy."""

    async def handle(session: AsyncSession, event: CallReceived) -> None:
        await take_in_call(session, ctx, event)

    return handle


async def take_in_call(session: AsyncSession, ctx: TriageContext, event: CallReceived) -> None:
    """Store a valid call on the worklist with its callback deadline; refuse one that cannot be right."""
    data = event.data
    problem = domain.identity_problem(data.patient.date_of_birth, event.occurred_at)
    if problem is not None:
        raise PermanentFailure(problem)
    existing = await session.get(TriageCall, data.call_id)
    if existing is not None:
        same_patient = (existing.nhs_number, existing.date_of_birth) == (
            data.patient.nhs_number,
            data.patient.date_of_birth,
        )
        if same_patient:
            return  # the same call re-sent under a new event id: one call, one worklist entry
        raise PermanentFailure(
            "data.call_id: already used for a different patient; the practice system must send "
            "a new request with a new call_id"
        )
    session.add(
        TriageCall(
            call_id=data.call_id,
            correlation_id=event.correlation_id,
            received_event_id=event.event_id,
            pcn_code=event.pcn_code,
            practice_ods=event.practice_ods,
            channel=data.channel.value,
            caller_urgency=data.caller_urgency.value,
            reason=data.reason,
            nhs_number=data.patient.nhs_number,
            date_of_birth=data.patient.date_of_birth,
            received_at=event.occurred_at,
            red_flags=domain.has_red_flags(data.reason),
            priority=domain.worklist_priority(data.reason, data.caller_urgency),
            callback_due_at=ctx.callbacks.callback_due(event.pcn_code, data.channel, event.occurred_at),
        )
    )


# --- decisions ------------------------------------------------------------------------------------


async def record_decision(
    session: AsyncSession,
    ctx: TriageContext,
    call_id: uuid.UUID,
    decision: domain.DecisionInput,
    *,
    now: datetime | None = None,
) -> tuple[TriageDecision, domain.Outcome]:
    """Record the MHP's decision for a call and stage `call.triaged` (and `case.escalated` for A/B).

    Raises CallNotFound, or domain.InvalidDecision before anything is written.
    """
    call = await session.get(TriageCall, call_id)
    if call is None:
        raise CallNotFound(str(call_id))
    decided_at = now or ctx.clock()
    outcome = domain.triage_outcome(
        decision, date_of_birth=call.date_of_birth, called_at=call.received_at, decided_at=decided_at
    )
    previous = None
    if call.latest_decision_id is not None:
        previous = await session.get(TriageDecision, call.latest_decision_id)
    triaged = CallTriaged.create(
        CallTriagedData(
            call_id=call.call_id,
            triage_code=decision.triage_code,
            disposition=outcome.disposition,
            respond_by=outcome.respond_by,
            modality=outcome.modality,
            appointment_minutes=outcome.appointment_minutes,
            out_of_scope_reason=outcome.out_of_scope_reason,
            destination=outcome.destination,
            supersedes=previous.event_id if previous else None,
            clinician=decision.clinician,
        ),
        producer=ctx.producer,
        pcn_code=call.pcn_code,
        practice_ods=call.practice_ods,
        correlation_id=call.correlation_id,
        causation_id=call.received_event_id,
        occurred_at=decided_at,
    )
    risk = decision.risk
    record = TriageDecision(
        decision_id=uuid.uuid4(),
        call_id=call.call_id,
        event_id=triaged.event_id,
        triage_code=decision.triage_code.value,
        disposition=outcome.disposition.value,
        respond_by=outcome.respond_by,
        modality=outcome.modality.value if outcome.modality else None,
        appointment_minutes=outcome.appointment_minutes,
        out_of_scope_reason=outcome.out_of_scope_reason.value if outcome.out_of_scope_reason else None,
        clinician=decision.clinician,
        decided_at=decided_at,
        supersedes=previous.decision_id if previous else None,
        destination=outcome.destination.value if outcome.destination else None,
        contact_outcome=outcome.contact_outcome.value if outcome.contact_outcome else None,
        complex_needs=decision.complex_needs,
        risk_summary=risk.summary if risk else None,
        risk_thoughts=risk.thoughts if risk else None,
        risk_plan=risk.plan if risk else None,
        risk_means=risk.means if risk else None,
        risk_intent=risk.intent if risk else None,
        risk_history=risk.history if risk else None,
        risk_protective_factors=risk.protective_factors if risk else None,
        risk_safeguarding_concerns=risk.safeguarding_concerns if risk else None,
    )
    add_event(session, triaged)
    if outcome.escalate_to is not None:
        escalated = triaged.caused(
            CaseEscalated,
            CaseEscalatedData(
                escalation_id=uuid.uuid4(),
                target=outcome.escalate_to,
                reason=EscalationReason.RISK,
                call_id=call.call_id,
                due_at=outcome.respond_by,
            ),
            producer=ctx.producer,
        )
        record.escalation_event_id = escalated.event_id
        add_event(session, escalated)
    session.add(record)
    if previous is not None:
        previous.superseded_by = record.decision_id
        session.add(previous)
    call.status = TRIAGED
    call.latest_decision_id = record.decision_id
    session.add(call)
    return record, outcome


async def call_with_decisions(
    session: AsyncSession, call_id: uuid.UUID
) -> tuple[TriageCall, list[TriageDecision]]:
    """A call and every decision taken on it, oldest first: the audit trail."""
    call = await session.get(TriageCall, call_id)
    if call is None:
        raise CallNotFound(str(call_id))
    query = (
        select(TriageDecision)
        .where(TriageDecision.call_id == call_id)
        .order_by(col(TriageDecision.decided_at), col(TriageDecision.decision_id))
    )
    return call, list((await session.exec(query)).all())


async def worklist(
    session: AsyncSession, *, pcn_code: str, practice_ods: str | None = None
) -> list[TriageCall]:
    """Calls awaiting triage, most urgent first, then longest waiting."""
    query = select(TriageCall).where(
        (TriageCall.status == AWAITING_TRIAGE) & (TriageCall.pcn_code == pcn_code)
    )
    if practice_ods:
        query = query.where(TriageCall.practice_ods == practice_ods)
    query = query.order_by(col(TriageCall.priority), col(TriageCall.received_at))
    return list((await session.exec(query)).all())


# --- deadline watchdog ----------------------------------------------------------------------------


async def escalate_overdue_calls(session: AsyncSession, ctx: TriageContext, *, limit: int = 100) -> int:
    """Escalate to the duty GP every call still awaiting triage past its callback deadline, once each.

    The call is marked escalated with a conditional update in the same transaction as the outbox row,
    so a restart, a second instance or a decision committed meanwhile can never make it fire twice.
    """
    now = ctx.clock()
    due = (
        select(TriageCall)
        .where(
            (col(TriageCall.status) == AWAITING_TRIAGE)
            & col(TriageCall.escalated_at).is_(None)
            & (col(TriageCall.callback_due_at) < now)
        )
        .order_by(col(TriageCall.callback_due_at))
        .limit(limit)
    )
    fired = 0
    for call in (await session.exec(due)).all():
        if not domain.deadline_breached(call.callback_due_at, now):
            continue
        event = CaseEscalated.create(
            CaseEscalatedData(
                escalation_id=uuid.uuid4(),
                target=EscalationTarget.DUTY_GP,
                reason=EscalationReason.TRIAGE_DEADLINE_BREACH,
                call_id=call.call_id,
                due_at=call.callback_due_at,
            ),
            producer=ctx.producer,
            pcn_code=call.pcn_code,
            practice_ods=call.practice_ods,
            correlation_id=call.correlation_id,
            causation_id=call.received_event_id,
            occurred_at=now,
        )
        result = await session.exec(
            update(TriageCall)
            .where(
                (col(TriageCall.call_id) == call.call_id)
                & col(TriageCall.escalated_at).is_(None)
                & (col(TriageCall.status) == AWAITING_TRIAGE)
            )
            .values(escalated_at=now, escalation_event_id=event.event_id)
        )
        if result.rowcount == 1:
            add_event(session, event)
            fired += 1
    if fired:
        log.warning("triage_deadline_escalated", calls=fired)
    return fired


def deadline_watchdog(db: Database, ctx: TriageContext, *, interval: float) -> Watchdog:
    """Escalates calls past their callback target to the duty GP, once each."""

    async def scan(session: AsyncSession, limit: int) -> int:
        return await escalate_overdue_calls(session, ctx, limit=limit)

    return Watchdog(db, [scan], interval=interval)
