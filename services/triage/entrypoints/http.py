"""Triage HTTP API for MHPs: the worklist, recording a decision and a call's audit trail.

Routes only translate: request model -> command or query -> response model. Every route asks its action
of `application/access.py` (403), scopes the call, PCN or practice to the caller's organisation (404)
and writes the access audit; the deciding clinician is the token's user, never the body.
"""

# No `from __future__ import annotations` here: the routes' `Depends(guard.requires(...))` names the
# router's own guard, which FastAPI can resolve only from annotations evaluated where they are written.

import dataclasses
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from services.triage.adapters.unit_of_work import SqlTriageUnitOfWork
from services.triage.application import queries
from services.triage.application.access import Action
from services.triage.application.commands import RecordDecision
from services.triage.application.context import TriageContext
from services.triage.application.handlers import record_decision
from services.triage.domain.call import CallNotFound, ConcurrentDecision, Decided, Decision
from services.triage.domain.mhts import DecisionInput, InvalidDecision, RiskFormulation
from services.triage.entrypoints.guard import Guard, audit_entry
from services.triage.entrypoints.http_models import (
    CallView,
    DecisionRequest,
    DecisionResponse,
    DecisionView,
    PatientView,
    WorklistEntry,
)
from shared.audit import AuditAction
from shared.contracts.envelope import PcnCode, PracticeOds
from shared.db import Database
from shared.http.paging import Page, page_of
from shared.identity import Principal, not_found, require_scope

READ, UPDATE, EXECUTE = AuditAction.READ, AuditAction.UPDATE, AuditAction.EXECUTE


def _invalid(error: InvalidDecision) -> HTTPException:
    # The same shape as FastAPI's own 422s, so clients read one format.
    return HTTPException(
        422, detail=[{"loc": ["body", error.field], "msg": error.message, "type": "value_error"}]
    )


def _decision_input(body: DecisionRequest, clinician: str) -> DecisionInput:
    risk = RiskFormulation(**body.risk.model_dump()) if body.risk is not None else None
    return DecisionInput(**body.model_dump(exclude={"risk"}), clinician=clinician, risk=risk)


def _decision_detail(decided: Decided) -> str:
    """What the decision did, for the audit row (ids only: no patient data in the detail)."""
    if decided.repeated:
        return f"unchanged: the same clinical decision as the current one, {decided.decision.decision_id}"
    if decided.superseded is not None:
        return f"decision {decided.decision.decision_id}, superseding {decided.superseded.decision_id}"
    return f"decision {decided.decision.decision_id}"


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
    guard = Guard(db)

    @router.get("/worklist", response_model=list[WorklistEntry])
    async def get_worklist(
        request: Request,
        response: Response,
        principal: Annotated[
            Principal, Depends(guard.requires(Action.READ_WORKLIST, "worklist.read", EXECUTE))
        ],
        page: Page,
        pcn: Annotated[PcnCode, Query(description="PCN code, e.g. U00123: the caller's own")],
        practice: Annotated[
            PracticeOds | None, Query(description="Practice ODS code, e.g. Y01234: one of the PCN's")
        ] = None,
    ) -> list[WorklistEntry]:
        """Calls awaiting triage in a PCN or practice: red flags, then caller urgency, then longest wait.

        Paged (`limit`, and the `Link: rel="next"` header's cursor); another PCN, or a practice not in
        the PCN, answers 404. Each call listed is recorded in the access audit.
        """
        # Another PCN, or a practice that is not one of the PCN's (the directory's tree), is not found.
        require_scope(principal, pcn, practice)
        async with SqlTriageUnitOfWork.reading(db) as uow:
            items = await queries.worklist(
                uow,
                pcn_code=pcn,
                practice_ods=practice,
                now=ctx.clock(),
                offset=page.offset,
                limit=page.fetch,
            )
        shown = page_of(items, page, request, response)
        await guard.listed(principal, (item.call for item in shown), "worklist.read")
        return [_worklist_entry(item) for item in shown]

    @router.post(
        "/calls/{call_id}/decision",
        response_model=DecisionResponse,
        status_code=201,
        responses={
            200: {"model": DecisionResponse, "description": "The same as the current decision: kept."},
        },
    )
    async def post_decision(
        call_id: uuid.UUID,
        body: DecisionRequest,
        response: Response,
        principal: Annotated[
            Principal, Depends(guard.requires(Action.RECORD_DECISION, "decision.record", UPDATE))
        ],
    ) -> DecisionResponse:
        """Record the MHP's triage decision (201); a later, different decision on the call supersedes it.

        The clinician is the caller (a body naming a `clinician` is refused, 422). The same clinical
        decision as the call's current one (a retry after a lost response, or another clinician
        agreeing) changes nothing and publishes nothing: 200 with the current decision. Another PCN's
        call answers 404, as a missing one does.
        """
        call = await guard.call(principal, call_id, "decision.record", UPDATE)
        command = RecordDecision(call_id=call_id, decision=_decision_input(body, principal.user_id))
        try:
            async with SqlTriageUnitOfWork.begin(db) as uow:
                decided = await record_decision(command, uow, ctx)
                # In the decision's own transaction: recorded together, or neither is.
                detail = _decision_detail(decided)
                uow.audit(audit_entry(principal, call, "decision.record", UPDATE, detail=detail))
        except CallNotFound:
            raise not_found() from None
        except InvalidDecision as exc:
            raise _invalid(exc) from None
        except ConcurrentDecision as exc:
            raise HTTPException(409, detail=exc.reason) from None
        if decided.repeated:
            response.status_code = 200
        return _decision_response(decided)

    @router.get("/calls/{call_id}", response_model=CallView)
    async def get_call(
        call_id: uuid.UUID,
        principal: Annotated[Principal, Depends(guard.requires(Action.READ_CALL, "call.read", READ))],
    ) -> CallView:
        """A call with every decision taken on it (the audit trail, including superseded decisions).

        An MHP reads their PCN's calls, a clinical lead their own practice's; any other call answers 404.
        """
        try:
            async with SqlTriageUnitOfWork.reading(db) as uow:
                trail = await queries.call_with_decisions(uow, call_id)
        except CallNotFound:
            raise not_found() from None
        await guard.in_scope(principal, trail.call, "call.read", READ)
        await guard.read(principal, trail.call, "call.read")
        return _call_view(trail)

    return router
