"""The events triage publishes, built from its aggregate (the domain knows nothing of the wire contracts)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.triage.domain.call import Call, Decided
from shared.contracts.codes import EscalationReason, EscalationTarget
from shared.contracts.v1 import CallTriaged, CallTriagedData, CaseEscalated, CaseEscalatedData


def _in_the_calls_journey(call: Call, producer: str) -> dict[str, Any]:
    """What every event triage publishes about a call carries: its organisation and journey."""
    return {
        "producer": producer,
        "pcn_code": call.pcn_code,
        "practice_ods": call.practice_ods,
        "correlation_id": call.correlation_id,
        "causation_id": call.received_event_id,
    }


def call_triaged(call: Call, decided: Decided, *, producer: str) -> CallTriaged:
    decision, superseded = decided.decision, decided.superseded
    return CallTriaged.create(
        CallTriagedData(
            call_id=call.call_id,
            triage_code=decision.triage_code,
            disposition=decision.disposition,
            respond_by=decision.respond_by,
            modality=decision.modality,
            appointment_minutes=decision.appointment_minutes,
            out_of_scope_reason=decision.out_of_scope_reason,
            destination=decision.destination,
            supersedes=superseded.event_id if superseded else None,
            decision_sequence=decision.decision_sequence,
            clinician=decision.clinician,
        ),
        **_in_the_calls_journey(call, producer),
        occurred_at=decision.decided_at,
        event_id=decision.event_id,
    )


def risk_escalated(
    call: Call, decided: Decided, triaged: CallTriaged, *, producer: str
) -> CaseEscalated | None:
    """Codes A and B: emergency services or the crisis team, caused by the call.triaged."""
    target = decided.outcome.escalate_to
    if target is None:
        return None
    return triaged.caused(
        CaseEscalated,
        CaseEscalatedData(
            escalation_id=uuid.uuid4(),
            target=target,
            reason=EscalationReason.RISK,
            call_id=call.call_id,
            due_at=decided.decision.respond_by,
        ),
        producer=producer,
        event_id=decided.decision.escalation_event_id,
    )


def deadline_escalated(call: Call, now: datetime, *, producer: str) -> CaseEscalated:
    """The duty GP is told of a call still untriaged past its callback deadline."""
    return CaseEscalated.create(
        CaseEscalatedData(
            escalation_id=uuid.uuid4(),
            target=EscalationTarget.DUTY_GP,
            reason=EscalationReason.TRIAGE_DEADLINE_BREACH,
            call_id=call.call_id,
            due_at=call.callback_due_at,
        ),
        **_in_the_calls_journey(call, producer),
        occurred_at=now,
    )


def out_of_hours_escalated(
    call: Call, route: EscalationTarget, now: datetime, *, producer: str
) -> CaseEscalated:
    """A red-flag call arrived out of hours: the route must act now. Ids and times only, no patient data."""
    return CaseEscalated.create(
        CaseEscalatedData(
            escalation_id=uuid.uuid4(),
            target=route,
            reason=EscalationReason.RED_FLAG_OUT_OF_HOURS,
            call_id=call.call_id,
            due_at=now,
        ),
        **_in_the_calls_journey(call, producer),
        occurred_at=now,
    )
