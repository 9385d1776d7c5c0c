"""Triage's use cases: store an incoming call; record an MHP decision and publish what follows from it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.triage import domain
from services.triage.models import TriageCall, TriageDecision
from shared.contracts.codes import CallerUrgency, EscalationReason
from shared.contracts.v1 import (
    CallReceived,
    CallTriaged,
    CallTriagedData,
    CaseEscalated,
    CaseEscalatedData,
)
from shared.db import utcnow
from shared.messaging.outbox import add_event


class CallNotFound(LookupError):
    pass


@dataclass(frozen=True)
class TriageContext:
    producer: str  # `<organisation>/triage`


async def on_call_received(session: AsyncSession, event: CallReceived) -> None:
    data = event.data
    if await session.get(TriageCall, data.call_id) is not None:
        return  # the same call re-sent under a new event id: one call, one worklist entry
    red_flags = domain.has_red_flags(data.reason)
    priority = 0 if red_flags else 1 if data.caller_urgency is CallerUrgency.URGENT else 2
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
            red_flags=red_flags,
            priority=priority,
        )
    )


async def record_decision(
    session: AsyncSession,
    ctx: TriageContext,
    call_id: uuid.UUID,
    decision: domain.DecisionInput,
    *,
    now: datetime | None = None,
) -> TriageDecision:
    """Record the MHP's decision for a call and stage `call.triaged` (and `case.escalated` for A/B)."""
    call = await session.get(TriageCall, call_id)
    if call is None:
        raise CallNotFound(str(call_id))
    decided_at = now or utcnow()
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
    )
    session.add(record)
    call.status = "triaged"
    call.latest_decision_id = record.decision_id
    session.add(call)
    add_event(session, triaged)
    if outcome.escalate_to is not None:
        add_event(
            session,
            triaged.caused(
                CaseEscalated,
                CaseEscalatedData(
                    escalation_id=uuid.uuid4(),
                    target=outcome.escalate_to,
                    reason=EscalationReason.RISK,
                    call_id=call.call_id,
                    due_at=outcome.respond_by,
                ),
                producer=ctx.producer,
            ),
        )
    return record


async def worklist(
    session: AsyncSession, *, pcn_code: str, practice_ods: str | None = None
) -> list[TriageCall]:
    """Calls awaiting triage, most urgent first, then longest waiting."""
    query = select(TriageCall).where(
        (TriageCall.status == "awaiting_triage") & (TriageCall.pcn_code == pcn_code)
    )
    if practice_ods:
        query = query.where(TriageCall.practice_ods == practice_ods)
    query = query.order_by(col(TriageCall.priority), col(TriageCall.received_at))
    return list((await session.exec(query)).all())
