"""Triage HTTP API for MHPs: the worklist and recording a decision."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from services.triage import domain
from services.triage.handlers import CallNotFound, TriageContext, record_decision, worklist
from shared.contracts.codes import Disposition, Modality, TriageCode
from shared.contracts.envelope import PcnCode, PracticeOds, StaffId
from shared.db import Database, utcnow


class WorklistEntry(BaseModel):
    call_id: uuid.UUID
    correlation_id: uuid.UUID
    practice_ods: str
    channel: str
    caller_urgency: str
    red_flags: bool
    received_at: datetime
    waiting_minutes: int


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    triage_code: TriageCode = Field(description="UK Mental Health Triage Scale code, A to G.")
    clinician: StaffId = Field(description="The deciding MHP's staff identifier.")
    modality: Modality | None = None
    complex_needs: bool = Field(default=False, description="A complex patient gets a 60-minute appointment.")
    low_level_need: bool = Field(default=False, description="Redirect to Talking Therapies self-referral.")
    disposition: Disposition | None = Field(default=None, description="Defaults from the triage code.")


class DecisionResponse(BaseModel):
    decision_id: uuid.UUID
    call_id: uuid.UUID
    event_id: uuid.UUID
    triage_code: TriageCode
    disposition: Disposition
    respond_by: datetime | None
    appointment_minutes: int | None
    out_of_scope_reason: str | None


def build_router(db: Database, ctx: TriageContext) -> APIRouter:
    router = APIRouter(tags=["triage"])

    @router.get("/worklist", response_model=list[WorklistEntry])
    async def get_worklist(
        pcn: Annotated[PcnCode, Query(description="PCN code, e.g. U00123")],
        practice: Annotated[PracticeOds | None, Query(description="Practice ODS code")] = None,
    ) -> list[WorklistEntry]:
        async with db.read() as session:
            calls = await worklist(session, pcn_code=pcn, practice_ods=practice)
        now = utcnow()
        return [
            WorklistEntry(
                call_id=c.call_id,
                correlation_id=c.correlation_id,
                practice_ods=c.practice_ods,
                channel=c.channel,
                caller_urgency=c.caller_urgency,
                red_flags=c.red_flags,
                received_at=c.received_at,
                waiting_minutes=max(0, (now - c.received_at) // timedelta(minutes=1)),
            )
            for c in calls
        ]

    @router.post("/calls/{call_id}/decision", response_model=DecisionResponse, status_code=201)
    async def post_decision(call_id: uuid.UUID, body: DecisionRequest) -> DecisionResponse:
        decision = domain.DecisionInput(
            triage_code=body.triage_code,
            clinician=body.clinician,
            modality=body.modality,
            complex_needs=body.complex_needs,
            low_level_need=body.low_level_need,
            disposition=body.disposition,
        )
        try:
            async with db.transaction() as session:
                record = await record_decision(session, ctx, call_id, decision)
        except CallNotFound:
            raise HTTPException(404, detail=f"no call {call_id} has been received by triage") from None
        return DecisionResponse(
            decision_id=record.decision_id,
            call_id=record.call_id,
            event_id=record.event_id,
            triage_code=TriageCode(record.triage_code),
            disposition=Disposition(record.disposition),
            respond_by=record.respond_by,
            appointment_minutes=record.appointment_minutes,
            out_of_scope_reason=record.out_of_scope_reason,
        )

    return router
