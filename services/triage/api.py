"""Triage HTTP API for MHPs: the worklist, recording a decision and a call's audit trail."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.triage import domain
from services.triage.handlers import (
    CallNotFound,
    TriageContext,
    call_with_decisions,
    record_decision,
    worklist,
)
from services.triage.models import TriageCall, TriageDecision
from shared.contracts.codes import Disposition, Modality, TriageCode
from shared.contracts.envelope import PcnCode, PracticeOds, StaffId
from shared.db import Database


class WorklistEntry(BaseModel):
    call_id: uuid.UUID
    correlation_id: uuid.UUID
    practice_ods: str
    channel: str
    caller_urgency: str
    red_flags: bool
    priority: int = Field(description="0 = red flags in the reason, 1 = caller says urgent, 2 = the rest.")
    received_at: datetime
    waiting_minutes: int
    callback_due_at: datetime = Field(description="The callback target, in working time.")
    deadline_breached: bool
    escalated_to_duty_gp_at: datetime | None


class RiskFormulationIn(BaseModel):
    """The MHP's risk formulation. Stored by triage only; never sent in an event."""

    model_config = ConfigDict(extra="forbid")

    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)] = Field(
        description="Free-text formulation."
    )
    thoughts: bool = Field(default=False, description="Thoughts of suicide or self-harm.")
    plan: bool = False
    means: bool = Field(default=False, description="Access to means.")
    intent: bool = False
    history: bool = Field(default=False, description="History of self-harm or attempts.")
    protective_factors: bool = Field(default=False, description="Protective factors present.")
    safeguarding_concerns: bool = False


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    triage_code: TriageCode = Field(description="UK Mental Health Triage Scale code, A to G.")
    clinician: StaffId = Field(description="The deciding MHP's staff identifier.")
    modality: Modality | None = None
    complex_needs: bool = Field(default=False, description="A complex patient gets a 60-minute appointment.")
    low_level_need: bool = Field(
        default=False, description="Redirect to Talking Therapies self-referral (codes E, F, G only)."
    )
    disposition: Disposition | None = Field(
        default=None,
        description=(
            "Defaults from the triage code. A disposition contradicting the code is refused (422), except "
            "for codes A and B, which are always escalated and never given an MHP appointment."
        ),
    )
    risk: RiskFormulationIn | None = Field(default=None, description="Risk formulation (kept in triage).")


class DecisionResponse(BaseModel):
    decision_id: uuid.UUID
    call_id: uuid.UUID
    event_id: uuid.UUID
    triage_code: TriageCode
    disposition: Disposition
    respond_by: datetime | None
    appointment_minutes: int | None
    out_of_scope_reason: str | None
    destination: str | None = None
    contact_outcome: str | None = Field(
        default=None, description="NHS Data Dictionary MENTAL HEALTH DROP IN CONTACT OUTCOME code."
    )
    supersedes: uuid.UUID | None = None
    escalation_event_id: uuid.UUID | None = None
    notes: list[str] = Field(default=[], description="What the service changed in the request, and why.")


class RiskFormulationOut(BaseModel):
    summary: str
    thoughts: bool | None
    plan: bool | None
    means: bool | None
    intent: bool | None
    history: bool | None
    protective_factors: bool | None
    safeguarding_concerns: bool | None


class DecisionView(BaseModel):
    decision_id: uuid.UUID
    event_id: uuid.UUID
    triage_code: TriageCode
    disposition: Disposition
    respond_by: datetime | None
    appointment_minutes: int | None
    modality: str | None
    complex_needs: bool
    out_of_scope_reason: str | None
    destination: str | None
    contact_outcome: str | None
    clinician: str
    decided_at: datetime
    supersedes: uuid.UUID | None
    superseded_by: uuid.UUID | None
    current: bool
    escalation_event_id: uuid.UUID | None
    risk: RiskFormulationOut | None


class PatientView(BaseModel):
    nhs_number: str
    date_of_birth: date


class CallView(BaseModel):
    call_id: uuid.UUID
    correlation_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    channel: str
    caller_urgency: str
    reason: str
    patient: PatientView = Field(description="Shown to the MHP so they can call the patient back.")
    red_flags: bool
    received_at: datetime
    callback_due_at: datetime
    status: str
    escalated_to_duty_gp_at: datetime | None
    decisions: list[DecisionView] = Field(description="Every decision, oldest first; superseded ones stay.")


def _not_found(call_id: uuid.UUID) -> HTTPException:
    return HTTPException(
        404,
        detail=f"no call {call_id} has been received by triage; check the call_id on the worklist",
    )


def _decision_view(d: TriageDecision, current: uuid.UUID | None) -> DecisionView:
    risk = None
    if d.risk_summary is not None:
        risk = RiskFormulationOut(
            summary=d.risk_summary,
            thoughts=d.risk_thoughts,
            plan=d.risk_plan,
            means=d.risk_means,
            intent=d.risk_intent,
            history=d.risk_history,
            protective_factors=d.risk_protective_factors,
            safeguarding_concerns=d.risk_safeguarding_concerns,
        )
    return DecisionView(
        decision_id=d.decision_id,
        event_id=d.event_id,
        triage_code=TriageCode(d.triage_code),
        disposition=Disposition(d.disposition),
        respond_by=d.respond_by,
        appointment_minutes=d.appointment_minutes,
        modality=d.modality,
        complex_needs=d.complex_needs,
        out_of_scope_reason=d.out_of_scope_reason,
        destination=d.destination,
        contact_outcome=d.contact_outcome,
        clinician=d.clinician,
        decided_at=d.decided_at,
        supersedes=d.supersedes,
        superseded_by=d.superseded_by,
        current=d.decision_id == current,
        escalation_event_id=d.escalation_event_id,
        risk=risk,
    )


def _call_view(call: TriageCall, decisions: list[TriageDecision]) -> CallView:
    return CallView(
        call_id=call.call_id,
        correlation_id=call.correlation_id,
        pcn_code=call.pcn_code,
        practice_ods=call.practice_ods,
        channel=call.channel,
        caller_urgency=call.caller_urgency,
        reason=call.reason,
        patient=PatientView(nhs_number=call.nhs_number, date_of_birth=call.date_of_birth),
        red_flags=call.red_flags,
        received_at=call.received_at,
        callback_due_at=call.callback_due_at,
        status=call.status,
        escalated_to_duty_gp_at=call.escalated_at,
        decisions=[_decision_view(d, call.latest_decision_id) for d in decisions],
    )


def build_router(db: Database, ctx: TriageContext) -> APIRouter:
    router = APIRouter(tags=["triage"])

    @router.get("/worklist", response_model=list[WorklistEntry])
    async def get_worklist(
        pcn: Annotated[PcnCode, Query(description="PCN code, e.g. U00123")],
        practice: Annotated[PracticeOds | None, Query(description="Practice ODS code, e.g. Y01234")] = None,
    ) -> list[WorklistEntry]:
        """Calls awaiting triage in a PCN or practice: red flags, then caller urgency, then longest wait."""
        async with db.read() as session:
            calls = await worklist(session, pcn_code=pcn, practice_ods=practice)
        now = ctx.clock()
        return [
            WorklistEntry(
                call_id=c.call_id,
                correlation_id=c.correlation_id,
                practice_ods=c.practice_ods,
                channel=c.channel,
                caller_urgency=c.caller_urgency,
                red_flags=c.red_flags,
                priority=c.priority,
                received_at=c.received_at,
                waiting_minutes=max(0, (now - c.received_at) // timedelta(minutes=1)),
                callback_due_at=c.callback_due_at,
                deadline_breached=domain.deadline_breached(c.callback_due_at, now),
                escalated_to_duty_gp_at=c.escalated_at,
            )
            for c in calls
        ]

    @router.post("/calls/{call_id}/decision", response_model=DecisionResponse, status_code=201)
    async def post_decision(call_id: uuid.UUID, body: DecisionRequest) -> DecisionResponse:
        """Record the MHP's triage decision; a later decision on the same call supersedes this one."""
        risk = None
        if body.risk is not None:
            risk = domain.RiskFormulation(**body.risk.model_dump())
        decision = domain.DecisionInput(
            triage_code=body.triage_code,
            clinician=body.clinician,
            modality=body.modality,
            complex_needs=body.complex_needs,
            low_level_need=body.low_level_need,
            disposition=body.disposition,
            risk=risk,
        )
        try:
            async with db.transaction() as session:
                record, outcome = await record_decision(session, ctx, call_id, decision)
        except CallNotFound:
            raise _not_found(call_id) from None
        except domain.InvalidDecision as exc:
            # The same shape as FastAPI's own 422s, so clients read one format.
            raise HTTPException(
                422, detail=[{"loc": ["body", exc.field], "msg": exc.message, "type": "value_error"}]
            ) from None
        return DecisionResponse(
            decision_id=record.decision_id,
            call_id=record.call_id,
            event_id=record.event_id,
            triage_code=TriageCode(record.triage_code),
            disposition=Disposition(record.disposition),
            respond_by=record.respond_by,
            appointment_minutes=record.appointment_minutes,
            out_of_scope_reason=record.out_of_scope_reason,
            destination=record.destination,
            contact_outcome=record.contact_outcome,
            supersedes=record.supersedes,
            escalation_event_id=record.escalation_event_id,
            notes=list(outcome.notes),
        )

    @router.get("/calls/{call_id}", response_model=CallView)
    async def get_call(call_id: uuid.UUID) -> CallView:
        """A call with every decision taken on it (the audit trail, including superseded decisions)."""
        async with db.read() as session:
            try:
                call, decisions = await call_with_decisions(session, call_id)
            except CallNotFound:
                raise _not_found(call_id) from None
        return _call_view(call, decisions)

    return router
