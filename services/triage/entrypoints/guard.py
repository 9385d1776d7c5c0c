"""Triage's access at the HTTP edge: the role's right (403), the organisation's scope (404), the audit.

Triage holds the patient's NHS number, so every audit row names the patient by it and the journey by
the call's correlation id. Refusals of a call that exists are recorded too, whether the role lacked the
right or the call is another organisation's; the caller sees only 403 or the same 404 as a missing id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from fastapi import Request

from services.triage.adapters.unit_of_work import SqlTriageUnitOfWork
from services.triage.application.access import POLICY, Action
from services.triage.domain.call import Call
from shared.audit import AuditAction, AuditOutcome, AuditRecord, audit_record, record_access
from shared.db import Database
from shared.identity import (
    Forbidden,
    Principal,
    current_principal,
    not_found,
)

REFUSED_ROLE = "refused: the role may not do this"
REFUSED_SCOPE = "refused: the call is outside the caller's organisation"


def audit_entry(
    principal: Principal,
    call: Call,
    operation: str,
    action: AuditAction,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    detail: str | None = None,
) -> AuditRecord:
    """One row about a call: the patient by NHS number, the journey by correlation id."""
    return audit_record(
        principal,
        operation=operation,
        action=action,
        resource_type="Call",
        resource_id=call.call_id,
        patient_ref=call.nhs_number,
        episode_id=call.correlation_id,
        outcome=outcome,
        detail=detail,
    )


class Guard:
    """The checks and audit rows of triage's routes over one service database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def requires(
        self, action: Action, operation: str, audit_action: AuditAction
    ) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
        """`POLICY.requires(action)`, recording the refusal when the route names a call that exists."""
        check = POLICY.requires(action)

        async def dependency(request: Request) -> Principal:
            try:
                return await check(request)
            except Forbidden:
                call = await self._find(_uuid(request.path_params.get("call_id")))
                if call is not None:
                    refused = audit_entry(
                        current_principal(request),
                        call,
                        operation,
                        audit_action,
                        AuditOutcome.REFUSED,
                        REFUSED_ROLE,
                    )
                    await record_access(self.db, refused)
                raise

        dependency.__name__ = f"requires_{action.name.lower()}"
        # The same marker as POLICY.requires, so route walkers (tests/support/routes.py) read the rule.
        dependency.access = (POLICY, action)  # type: ignore[attr-defined]
        return dependency

    async def _find(self, call_id: uuid.UUID | None) -> Call | None:
        if call_id is None:
            return None
        async with SqlTriageUnitOfWork.reading(self.db) as uow:
            return await uow.calls.get(call_id)

    async def call(
        self, principal: Principal, call_id: uuid.UUID, operation: str, action: AuditAction
    ) -> Call:
        """Before a change: the call in the caller's scope. A call's PCN and practice never change, so
        this check, made before the change's own transaction, still holds in it."""
        return await self.in_scope(principal, await self._find(call_id), operation, action)

    async def in_scope(
        self, principal: Principal, call: Call | None, operation: str, action: AuditAction
    ) -> Call:
        """The call if the caller's organisation covers it; else 404, and a refusal row if it exists."""
        if call is None:
            raise not_found()
        if not principal.can_see(call.pcn_code, call.practice_ods):
            refused = audit_entry(principal, call, operation, action, AuditOutcome.REFUSED, REFUSED_SCOPE)
            await record_access(self.db, refused)
            raise not_found()
        return call

    async def read(self, principal: Principal, call: Call, operation: str) -> None:
        await record_access(self.db, audit_entry(principal, call, operation, AuditAction.READ))

    async def listed(self, principal: Principal, shown: Iterable[Call], operation: str) -> None:
        """A list: one EXECUTE row per call returned, so each patient's audit shows the list naming them."""
        await record_access(
            self.db, *(audit_entry(principal, call, operation, AuditAction.EXECUTE) for call in shown)
        )


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None
