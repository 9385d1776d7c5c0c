"""Booking's HTTP scope checks and audit rows: one 404 for "missing" and "another organisation's".

The organisation directory is the one the tokens were verified against (`app.state.verifier`), so a
practice's PCN is decided by the same file every service reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request

from services.booking.adapters.unit_of_work import SqlBookingUnitOfWork
from services.booking.application import queries
from services.booking.application.access import POLICY, Action, practice_filter, sees_practice
from services.booking.domain.appointment import Appointment
from shared.audit import AuditAction, AuditOutcome, AuditRecord, audit_record, record_access
from shared.db import Database
from shared.identity.directory import OrganisationDirectory
from shared.identity.policy import current_principal, not_found, require_scope
from shared.identity.principal import Principal


def _directory(request: Request) -> OrganisationDirectory:
    directory: OrganisationDirectory = request.app.state.verifier.directory
    return directory


Directory = Annotated[OrganisationDirectory, Depends(_directory)]


def require_practice(
    principal: Principal, directory: OrganisationDirectory, practice_ods: str, pcn_code: str | None = None
) -> str:
    """The practice's PCN; 404 unless the principal covers the practice (and it is in `pcn_code`)."""
    pcn = directory.pcn_of(practice_ods)
    if (pcn_code is not None and pcn != pcn_code) or not sees_practice(principal, pcn, practice_ods):
        raise not_found()
    assert pcn is not None
    return pcn


def list_scope(
    principal: Principal, directory: OrganisationDirectory, pcn_code: str, practice_ods: str | None
) -> str | None:
    """The practice a PCN's list is confined to: a practice role's own; 404 outside the principal's."""
    try:
        practice = practice_filter(principal, practice_ods)
    except LookupError:
        raise not_found() from None
    if practice is None:
        require_scope(principal, pcn_code)
    else:
        require_practice(principal, directory, practice, pcn_code)
    return practice


def appointment_record(
    principal: Principal,
    appointment: Appointment,
    operation: str,
    action: AuditAction,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    detail: str | None = None,
) -> AuditRecord:
    """An audit row about a patient's appointment; booking holds no NHS number, so the episode names them."""
    return audit_record(
        principal,
        operation=operation,
        action=action,
        resource_type="Appointment",
        resource_id=appointment.appointment_id,
        episode_id=appointment.correlation_id,
        outcome=outcome,
        detail=detail,
    )


async def record_refusal(
    db: Database, principal: Principal, appointment: Appointment, operation: str, action: AuditAction
) -> None:
    """A refused look at an appointment that exists (the caller is answered 404 or 403)."""
    record = appointment_record(principal, appointment, operation, action, AuditOutcome.REFUSED)
    await record_access(db, record)


class OutOfScope(Exception):
    """Raised inside a unit of work to roll it back when the appointment is another organisation's."""

    def __init__(self, appointment: Appointment) -> None:
        super().__init__("out of scope")
        self.appointment = appointment


def guarded(
    action: Action, operation: str, audit_action: AuditAction
) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """`POLICY.requires(action)` for a route on one appointment: a refused role is audited too."""

    async def dependency(request: Request, appointment_id: uuid.UUID) -> Principal:
        principal = current_principal(request)
        if not POLICY.allows(principal.role, action):
            db: Database = request.app.state.host.db
            async with SqlBookingUnitOfWork.reading(db) as uow:
                appointment = await queries.appointment(uow, appointment_id)
            if appointment is not None:
                await record_refusal(db, principal, appointment, operation, audit_action)
        return POLICY.check(principal, action)

    dependency.__name__ = f"requires_{action.name.lower()}"
    dependency.access = (POLICY, action)  # type: ignore[attr-defined]  # read by tests/support/routes
    return dependency


BOOK, READ, CANCEL = "appointment.book", "appointment.read", "appointment.cancel"

ReadsAppointment = Annotated[Principal, Depends(guarded(Action.READ_APPOINTMENT, READ, AuditAction.READ))]
CancelsAppointment = Annotated[
    Principal, Depends(guarded(Action.CANCEL_APPOINTMENT, CANCEL, AuditAction.UPDATE))
]
