"""Referrals' access at the HTTP edge: the role's right (403), the organisation's scope (404), the audit.

Referrals holds no NHS number, so every audit row names the patient by episode (the correlation id).
Refusals of a referral, follow-up or escalation that exists are recorded too, whether the role lacked the
right or the resource is another organisation's; the caller sees only 403 or the same 404 as for a missing id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any, NoReturn, TypeVar

from fastapi import Request

from services.referrals.adapters.unit_of_work import SqlReferralsUnitOfWork
from services.referrals.application import queries
from services.referrals.application.access import POLICY, Action
from services.referrals.application.handlers.escalations import find_escalation
from services.referrals.domain.escalation import Escalation
from services.referrals.domain.follow_up import DnaFollowUp
from services.referrals.domain.referral import Referral
from shared.audit import AuditAction, AuditOutcome, AuditRecord, audit_record, record_access
from shared.db import Database
from shared.identity import Forbidden, OrganisationDirectory, Principal, current_principal, not_found

Resource = Referral | DnaFollowUp | Escalation
R = TypeVar("R", Referral, DnaFollowUp)


def audit_entry(
    principal: Principal,
    resource: Resource,
    operation: str,
    action: AuditAction,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    *,
    resource_id: uuid.UUID | None = None,
) -> AuditRecord:
    """One row about a referral, follow-up or escalation (or, with `resource_id`, another referral of its
    chain)."""
    if isinstance(resource, Referral):
        kind, own_id = "Referral", resource.referral_id
    elif isinstance(resource, Escalation):
        kind, own_id = "Escalation", resource.escalation_id
    else:
        kind, own_id = "DnaFollowUp", resource.follow_up_id
    return audit_record(
        principal,
        operation=operation,
        action=action,
        resource_type=kind,
        resource_id=resource_id or own_id,
        episode_id=resource.correlation_id,
        outcome=outcome,
    )


def list_scope(
    principal: Principal, pcn: str | None, practice: str | None, directory: OrganisationDirectory
) -> tuple[str, str | None]:
    """The PCN and practice a list may cover: the caller's own, or 404 for another organisation's."""
    pcn_code = pcn or principal.pcn_code
    # A practice role (the clinical lead) is confined to its practice even when it names none.
    practice_ods = practice or principal.practice_ods
    if pcn_code is None or not principal.can_see(pcn_code, practice_ods):
        raise not_found()
    # can_see does not know which practices a PCN has: a practice of another PCN is another's too.
    if practice_ods is not None and directory.pcn_of(practice_ods) != pcn_code:
        raise not_found()
    return pcn_code, practice_ods


class Guard:
    """The checks and audit rows of one service database's routes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def requires(
        self, action: Action, operation: str, audit_action: AuditAction
    ) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
        """`POLICY.requires(action)`, recording a refusal when the route names an existing resource."""
        check = POLICY.requires(action)

        async def dependency(request: Request) -> Principal:
            try:
                return await check(request)
            except Forbidden:
                resource = await self._named(request.path_params)
                if resource is not None:
                    principal = current_principal(request)
                    refused = audit_entry(principal, resource, operation, audit_action, AuditOutcome.REFUSED)
                    await record_access(self.db, refused)
                raise

        dependency.__name__ = f"requires_{action.name.lower()}"
        # The same marker as POLICY.requires, so route walkers read the rule off this dependency too.
        dependency.access = (POLICY, action)  # type: ignore[attr-defined]
        return dependency

    async def _named(self, path_params: Mapping[str, Any]) -> Resource | None:
        async with SqlReferralsUnitOfWork.reading(self.db) as uow:
            if (referral_id := _uuid(path_params.get("referral_id"))) is not None:
                return await queries.find_referral(uow, referral_id)
            if (follow_up_id := _uuid(path_params.get("follow_up_id"))) is not None:
                return await queries.find_follow_up(uow, follow_up_id)
            if (escalation_id := _uuid(path_params.get("escalation_id"))) is not None:
                return await find_escalation(uow, escalation_id)
        return None

    async def in_scope(
        self, principal: Principal, resource: R | None, operation: str, action: AuditAction
    ) -> R:
        """The resource if the principal's organisation covers it; else the refusal recorded and 404."""
        if resource is None:
            raise not_found()
        if not principal.can_see(resource.pcn_code, resource.practice_ods):
            await self.refuse(principal, resource, operation, action)
        return resource

    async def refuse(
        self, principal: Principal, resource: Resource, operation: str, action: AuditAction
    ) -> NoReturn:
        await record_access(
            self.db, audit_entry(principal, resource, operation, action, AuditOutcome.REFUSED)
        )
        raise not_found()

    async def referral(
        self, principal: Principal, referral_id: uuid.UUID, operation: str, action: AuditAction
    ) -> Referral:
        """Before a change: the referral in the caller's scope (its PCN and practice never change)."""
        async with SqlReferralsUnitOfWork.reading(self.db) as uow:
            found = await queries.find_referral(uow, referral_id)
        return await self.in_scope(principal, found, operation, action)

    async def follow_up(
        self, principal: Principal, follow_up_id: uuid.UUID, operation: str, action: AuditAction
    ) -> DnaFollowUp:
        async with SqlReferralsUnitOfWork.reading(self.db) as uow:
            found = await queries.find_follow_up(uow, follow_up_id)
        return await self.in_scope(principal, found, operation, action)

    async def read(self, principal: Principal, resource: R, operation: str) -> None:
        """A read of one resource: scoped (404 and a refusal row) or recorded as read."""
        await self.in_scope(principal, resource, operation, AuditAction.READ)
        await record_access(self.db, audit_entry(principal, resource, operation, AuditAction.READ))

    async def listed(self, principal: Principal, shown: Iterable[Resource], operation: str) -> None:
        """A list: one EXECUTE row per referral or follow-up returned, so each episode's audit shows it."""
        await record_access(
            self.db, *(audit_entry(principal, item, operation, AuditAction.EXECUTE) for item in shown)
        )


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None
