"""Referrals' escalation inbox API: each owner's escalations, acknowledge, resolve with an outcome, hand over.

The role's right is `application/access.py`'s (403); which escalation a person may see or act on is
`application/escalation_access.py`'s: one they may not see answers 404 like a missing id, one they may see
but not act on 403. Every read, change and refusal of an existing escalation is in the access audit.
"""

# No `from __future__ import annotations`: FastAPI resolves the routes' dependencies from annotations.

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.referrals.adapters.unit_of_work import SqlReferralsUnitOfWork
from services.referrals.application.access import Action
from services.referrals.application.commands import (
    AcknowledgeEscalation,
    HandOverEscalation,
    ResolveEscalation,
)
from services.referrals.application.context import ReferralsContext
from services.referrals.application.escalation_access import Actor
from services.referrals.application.handlers import escalations as handlers
from services.referrals.domain.escalation import Escalation, EscalationClosed, EscalationState, Step
from services.referrals.entrypoints.guard import Guard, audit_entry
from shared.audit import AuditAction, AuditOutcome, record_access
from shared.contracts.codes import EscalationOutcome, EscalationReason, EscalationTarget
from shared.contracts.envelope import StaffId
from shared.contracts.text import IdentifierFreeText
from shared.db import Database
from shared.http.paging import Page, page_of
from shared.identity import Principal, not_found

__all__ = ["build_escalations_router"]


class HistoryView(BaseModel):
    at: datetime
    step: Step
    rung: int
    target: EscalationTarget
    owner: str | None
    by: str | None = Field(description="Who acted (from their token); none for the bus or the ladder.")


class EscalationView(BaseModel):
    escalation_id: uuid.UUID
    correlation_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    state: EscalationState
    target: EscalationTarget = Field(description="The current rung's owner kind.")
    first_target: EscalationTarget
    reason: EscalationReason
    rung: int
    owner: str | None = Field(
        description="Staff id of the person who must act; none if the directory names nobody."
    )
    acknowledge_by: datetime = Field(description="Past this, unacknowledged, it climbs to the next owner.")
    raised_at: datetime
    raised_by: str
    call_id: uuid.UUID | None
    appointment_id: uuid.UUID | None
    referral_id: uuid.UUID | None
    due_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    outcome: EscalationOutcome | None
    note: str | None

    @classmethod
    def of(cls, e: Escalation) -> "EscalationView":
        return cls.model_validate({name: getattr(e, name) for name in cls.model_fields})


class EscalationDetail(EscalationView):
    history: list[HistoryView]

    @classmethod
    def of(cls, e: Escalation) -> "EscalationDetail":
        view = EscalationView.of(e).model_dump()
        history = [HistoryView.model_validate(h, from_attributes=True) for h in e.history]
        return cls(**view, history=history)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResolveRequest(_Strict):
    outcome: EscalationOutcome
    note: Annotated[IdentifierFreeText, Field(max_length=200)] | None = Field(
        default=None, description="Beside the outcome code; no patient identifiers (refused with a 422)."
    )


class HandOverRequest(_Strict):
    to: StaffId = Field(description="A person the directory names for the escalation's PCN or the trust.")


StateQuery = Annotated[
    EscalationState | None, Query(description="open, acknowledged or resolved; default all")
]


@asynccontextmanager
async def answering() -> AsyncIterator[None]:
    try:
        yield
    except handlers.EscalationNotFound:
        raise not_found() from None
    except handlers.NotTheOwner as exc:
        raise HTTPException(403, detail=exc.reason) from None
    except handlers.NotInTheDirectory as exc:
        raise HTTPException(
            422, detail=[{"loc": ["body", "to"], "msg": exc.reason, "type": "value_error"}]
        ) from None
    except EscalationClosed as exc:
        raise HTTPException(409, detail=exc.reason) from None


def build_escalations_router(db: Database, ctx: ReferralsContext) -> APIRouter:
    router = APIRouter(tags=["escalations"])
    guard = Guard(db)

    async def find(escalation_id: uuid.UUID) -> Escalation | None:
        async with SqlReferralsUnitOfWork.reading(db) as uow:
            return await handlers.find_escalation(uow, escalation_id)

    async def scoped(
        principal: Principal, escalation_id: uuid.UUID, operation: str, action: AuditAction, *, acting: bool
    ) -> Escalation:
        """The escalation if the caller may see it (else 404) and, when acting, act on it (else 403);
        a refusal of an existing one is audited."""
        actor, found = Actor.of(principal), await find(escalation_id)
        if found is None:
            raise not_found()
        if not actor.may_see(found) or (acting and not actor.may_act(found)):
            await record_access(db, audit_entry(principal, found, operation, action, AuditOutcome.REFUSED))
            if not actor.may_see(found):
                raise not_found()
            raise HTTPException(
                403, detail="only the escalation's owner or the trust's duty manager may act on it"
            )
        return found

    @router.get("/escalations", response_model=list[EscalationView])
    async def get_inbox(
        request: Request,
        response: Response,
        principal: Annotated[
            Principal,
            Depends(guard.requires(Action.LIST_ESCALATIONS, "escalation.list", AuditAction.EXECUTE)),
        ],
        page: Page,
        state: StateQuery = None,
    ) -> list[EscalationView]:
        """The caller's inbox: escalations they own; a trust manager's also the trust's rung, an operator's
        the platform operator's. Soonest acknowledge-by first."""
        async with SqlReferralsUnitOfWork.reading(db) as uow:
            rows = await handlers.inbox(
                uow, Actor.of(principal), state=state, offset=page.offset, limit=page.fetch
            )
        shown = page_of(rows, page, request, response)
        await record_access(
            db, *(audit_entry(principal, e, "escalation.list", AuditAction.EXECUTE) for e in shown)
        )
        return [EscalationView.of(e) for e in shown]

    @router.get("/escalations/{escalation_id}", response_model=EscalationDetail)
    async def get_escalation(
        escalation_id: uuid.UUID,
        principal: Annotated[
            Principal, Depends(guard.requires(Action.READ_ESCALATION, "escalation.read", AuditAction.READ))
        ],
    ) -> EscalationDetail:
        """An escalation with its history: raised, each climb, acknowledgement, hand-overs, resolution."""
        found = await scoped(principal, escalation_id, "escalation.read", AuditAction.READ, acting=False)
        await record_access(db, audit_entry(principal, found, "escalation.read", AuditAction.READ))
        return EscalationDetail.of(found)

    async def act(
        principal: Principal, escalation_id: uuid.UUID, operation: str, run: Callable[[Any], Any]
    ) -> EscalationDetail:
        await scoped(principal, escalation_id, operation, AuditAction.UPDATE, acting=True)
        async with answering(), SqlReferralsUnitOfWork.begin(db) as uow:
            escalation: Escalation = await run(uow)
            uow.audit(audit_entry(principal, escalation, operation, AuditAction.UPDATE))
        return EscalationDetail.of(escalation)

    def acting(operation: str) -> Any:
        return Depends(guard.requires(Action.ACT_ON_ESCALATION, operation, AuditAction.UPDATE))

    @router.post("/escalations/{escalation_id}/acknowledge", response_model=EscalationDetail)
    async def acknowledge(
        escalation_id: uuid.UUID, principal: Annotated[Principal, acting("escalation.acknowledge")]
    ) -> EscalationDetail:
        """Take it on: it stops climbing the ladder (publishes escalation.acknowledged)."""
        command = AcknowledgeEscalation(escalation_id, Actor.of(principal))
        return await act(
            principal,
            escalation_id,
            "escalation.acknowledge",
            lambda uow: handlers.acknowledge_escalation(command, uow, ctx),
        )

    @router.post("/escalations/{escalation_id}/resolve", response_model=EscalationDetail)
    async def resolve(
        escalation_id: uuid.UUID,
        body: ResolveRequest,
        principal: Annotated[Principal, acting("escalation.resolve")],
    ) -> EscalationDetail:
        """Close it with its outcome (escalation.resolved; escalation.acknowledged first if open)."""
        command = ResolveEscalation(escalation_id, Actor.of(principal), body.outcome, body.note)
        return await act(
            principal,
            escalation_id,
            "escalation.resolve",
            lambda uow: handlers.resolve_escalation(command, uow, ctx),
        )

    @router.post("/escalations/{escalation_id}/hand-over", response_model=EscalationDetail)
    async def hand_over(
        escalation_id: uuid.UUID,
        body: HandOverRequest,
        principal: Annotated[Principal, acting("escalation.hand_over")],
    ) -> EscalationDetail:
        """Give it to another person the directory names; its state and acknowledgement deadline are kept."""
        command = HandOverEscalation(escalation_id, Actor.of(principal), body.to)
        return await act(
            principal,
            escalation_id,
            "escalation.hand_over",
            lambda uow: handlers.hand_over_escalation(command, uow, ctx),
        )

    return router
