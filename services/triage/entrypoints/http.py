"""Triage HTTP API for MHPs: the worklist, recording a decision and a call's audit trail.

Routes only translate: request model -> command or query -> response model.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response

from services.triage.adapters.unit_of_work import SqlTriageUnitOfWork
from services.triage.application import queries
from services.triage.application.commands import RecordDecision
from services.triage.application.context import TriageContext
from services.triage.application.handlers import record_decision
from services.triage.domain.call import CallNotFound, ConcurrentDecision, Decided, Decision
from services.triage.domain.mhts import DecisionInput, InvalidDecision, RiskFormulation
from services.triage.entrypoints.http_models import (
    CallView,
    DecisionRequest,
    DecisionResponse,
    DecisionView,
    PatientView,
    WorklistEntry,
)
from shared.contracts.envelope import PcnCode, PracticeOds
from shared.db import Database


def _not_found(error: CallNotFound) -> HTTPException:
    return HTTPException(404, detail=error.reason)


def _invalid(error: InvalidDecision) -> HTTPException:
    # The same shape as FastAPI's own 422s, so clients read one format.
    return HTTPException(
        422, detail=[{"loc": ["body", error.field], "msg": error.message, "type": "value_error"}]
    )


def _decision_input(body: DecisionRequest) -> DecisionInput:
    risk = RiskFormulation(**body.risk.model_dump()) if body.risk is not None else None
    return DecisionInput(**body.model_dump(exclude={"risk"}), risk=risk)


# Response models take the domain objects' fields by name (their enums serialise as the codes).


def _decision_response(decided: Decided) -> DecisionResponse:
    return DecisionResponse(**vars(decided.decision), notes=list(decided.outcome.notes))


def _decision_view(decision: Decision, current: uuid.UUID | None) -> DecisionView:
    return DecisionView.model_validate(
        dataclasses.asdict(decision) | {"current": decision.decision_id == current}
    )


def _call_view(trail: queries.AuditTrail) -> CallView:
    call = trail.call
    return CallView(
        **vars(call),
        patient=PatientView(nhs_number=call.nhs_number, date_of_birth=call.date_of_birth),
        escalated_to_duty_gp_at=call.escalated_at,
        decisions=[_decision_view(d, call.latest_decision_id) for d in trail.decisions],
    )


def _worklist_entry(item: queries.WorklistItem) -> WorklistEntry:
    return WorklistEntry(
        **vars(item.call),
        waiting_minutes=item.waiting_minutes,
        deadline_breached=item.deadline_breached,
        escalated_to_duty_gp_at=item.call.escalated_at,
    )


def build_router(db: Database, ctx: TriageContext) -> APIRouter:
    router = APIRouter(tags=["triage"])

    @router.get("/worklist", response_model=list[WorklistEntry])
    async def get_worklist(
        pcn: Annotated[PcnCode, Query(description="PCN code, e.g. U00123")],
        practice: Annotated[PracticeOds | None, Query(description="Practice ODS code, e.g. Y01234")] = None,
    ) -> list[WorklistEntry]:
        """Calls awaiting triage in a PCN or practice: red flags, then caller urgency, then longest wait."""
        async with SqlTriageUnitOfWork.reading(db) as uow:
            items = await queries.worklist(uow, pcn_code=pcn, practice_ods=practice, now=ctx.clock())
        return [_worklist_entry(item) for item in items]

    @router.post(
        "/calls/{call_id}/decision",
        response_model=DecisionResponse,
        status_code=201,
        responses={
            200: {"model": DecisionResponse, "description": "The same as the current decision: kept."}
        },
    )
    async def post_decision(
        call_id: uuid.UUID, body: DecisionRequest, response: Response
    ) -> DecisionResponse:
        """Record the MHP's triage decision (201); a later, different decision on the call supersedes it.

        The same clinical decision as the call's current one (a retry after a lost response, or another
        clinician agreeing) changes nothing and publishes nothing: 200 with the current decision.
        """
        command = RecordDecision(call_id=call_id, decision=_decision_input(body))
        try:
            async with SqlTriageUnitOfWork.begin(db) as uow:
                decided = await record_decision(command, uow, ctx)
        except CallNotFound as exc:
            raise _not_found(exc) from None
        except InvalidDecision as exc:
            raise _invalid(exc) from None
        except ConcurrentDecision as exc:
            raise HTTPException(409, detail=exc.reason) from None
        if decided.repeated:
            response.status_code = 200
        return _decision_response(decided)

    @router.get("/calls/{call_id}", response_model=CallView)
    async def get_call(call_id: uuid.UUID) -> CallView:
        """A call with every decision taken on it (the audit trail, including superseded decisions)."""
        try:
            async with SqlTriageUnitOfWork.reading(db) as uow:
                trail = await queries.call_with_decisions(uow, call_id)
        except CallNotFound as exc:
            raise _not_found(exc) from None
        return _call_view(trail)

    return router
