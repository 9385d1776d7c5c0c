"""`GET /audit`: the information governance lead's view of a service's access audit, by patient or user.

Read-only by construction: the router has no write route, and the table's triggers refuse changes.
Reading the audit is itself recorded (it names patients).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import col, select

from shared.audit import AuditAction, AuditRecord, audit_record, record_access
from shared.db import Database
from shared.http.paging import Page, page_of
from shared.identity.policy import AccessPolicy
from shared.identity.principal import Principal, Role


class AuditActionName(StrEnum):
    READ_AUDIT = "read the access audit"


AUDIT_POLICY = AccessPolicy({AuditActionName.READ_AUDIT: {Role.IG_LEAD}})


class AuditEventView(BaseModel):
    """One access, named as FHIR AuditEvent names its parts."""

    id: uuid.UUID
    recorded: datetime
    action: str = Field(description="C create, R read, U update, D delete, E search/list")
    outcome: str = Field(description="0 success, 4 refused or not found, 8 failed")
    operation: str
    agent_user: str
    agent_role: str
    agent_organisation: str
    entity_type: str
    entity_id: str | None
    patient: str | None = Field(description="NHS number, where this service holds it")
    episode: uuid.UUID | None
    detail: str | None


def _view(row: AuditRecord) -> AuditEventView:
    return AuditEventView(
        id=row.audit_id,
        recorded=row.recorded_at,
        action=row.action,
        outcome=row.outcome,
        operation=row.operation,
        agent_user=row.user_id,
        agent_role=row.role,
        agent_organisation=row.organisation,
        entity_type=row.resource_type,
        entity_id=row.resource_id,
        patient=row.patient_ref,
        episode=row.episode_id,
        detail=row.detail,
    )


def build_audit_router(db: Database) -> APIRouter:
    router = APIRouter(tags=["audit"])

    @router.get("/audit", response_model=list[AuditEventView])
    async def get_audit(
        request: Request,
        response: Response,
        principal: Annotated[Principal, Depends(AUDIT_POLICY.requires(AuditActionName.READ_AUDIT))],
        page: Page,
        patient: Annotated[str | None, Query(pattern=r"^\d{10}$", description="NHS number")] = None,
        user: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
        episode: uuid.UUID | None = None,
    ) -> list[AuditEventView]:
        """Accesses to this service's patient data, newest first, for one patient, episode or user."""
        if patient is None and user is None and episode is None:
            raise HTTPException(422, detail="ask by patient, episode or user")
        query = select(AuditRecord)
        if patient is not None:
            query = query.where(col(AuditRecord.patient_ref) == patient)
        if episode is not None:
            query = query.where(col(AuditRecord.episode_id) == episode)
        if user is not None:
            query = query.where(col(AuditRecord.user_id) == user)
        query = query.order_by(col(AuditRecord.recorded_at).desc(), col(AuditRecord.audit_id))
        async with db.read() as session:
            rows = (await session.exec(query.offset(page.offset).limit(page.fetch))).all()
        await record_access(
            db,
            audit_record(
                principal,
                operation="audit.search",
                action=AuditAction.EXECUTE,
                resource_type="AuditEvent",
                patient_ref=patient,
                episode_id=episode,
                detail=f"user={user}" if user else None,
            ),
        )
        return [_view(row) for row in page_of(rows, page, request, response)]

    return router
