"""The access audit: an append-only record, in each service's own database, of who touched which patient.

Every read and every change of patient-identifiable data writes one row (who, in which role and
organisation, did what to which resource, about which patient or episode, when, and with what outcome).
A change's row commits in the change's own transaction (`SqlUnitOfWork.audit`); a read's row is written
by `record_access` before the answer leaves. The rows follow FHIR `AuditEvent`: `action` is its
C/R/U/D/E code, `outcome` its 0/4/8, the principal its `agent`, the resource and patient its `entity`.
Nothing in the API updates or deletes a row, and the database refuses to (triggers, see
`APPEND_ONLY_DDL`); the information governance lead reads them through `GET /audit`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import DDL, event
from sqlmodel import Field, SQLModel

from shared.db import Database, UtcDateTime, utcnow
from shared.identity.principal import Principal


class AuditAction(StrEnum):
    """FHIR AuditEvent.action."""

    CREATE = "C"
    READ = "R"
    UPDATE = "U"
    DELETE = "D"
    EXECUTE = "E"
    """A search or a list: the resource is the query, the patients are those it returned."""


class AuditOutcome(StrEnum):
    """FHIR AuditEvent.outcome: success, minor failure (refused, not found), serious failure."""

    SUCCESS = "0"
    REFUSED = "4"
    FAILED = "8"


class AuditRecord(SQLModel, table=True):
    __tablename__ = "access_audit"

    audit_id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    recorded_at: datetime = Field(sa_type=UtcDateTime, index=True)
    user_id: str = Field(max_length=128, index=True)
    role: str = Field(max_length=32)
    organisation: str = Field(max_length=16)
    action: str = Field(max_length=1)
    operation: str = Field(max_length=64)
    """What the service did, e.g. `call.read`, `decision.record`."""
    resource_type: str = Field(max_length=32)
    resource_id: str | None = Field(default=None, max_length=64)
    patient_ref: str | None = Field(default=None, max_length=16, index=True)
    """The patient's NHS number, where the service holds it."""
    episode_id: uuid.UUID | None = Field(default=None, index=True)
    """The journey's correlation id: the patient reference of services that hold no NHS number."""
    outcome: str = Field(max_length=1)
    detail: str | None = Field(default=None, max_length=200)


def audit_record(
    principal: Principal,
    *,
    operation: str,
    action: AuditAction,
    resource_type: str,
    resource_id: str | uuid.UUID | None = None,
    patient_ref: str | None = None,
    episode_id: uuid.UUID | None = None,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    detail: str | None = None,
    at: datetime | None = None,
) -> AuditRecord:
    return AuditRecord(
        recorded_at=at or utcnow(),
        user_id=principal.user_id,
        role=str(principal.role),
        organisation=principal.org_code,
        action=str(action),
        operation=operation,
        resource_type=resource_type,
        resource_id=None if resource_id is None else str(resource_id),
        patient_ref=patient_ref,
        episode_id=episode_id,
        outcome=str(outcome),
        detail=detail,
    )


async def record_access(db: Database, *records: AuditRecord) -> None:
    """Write read records in their own transaction (a read has no transaction of its own to join)."""
    if not records:
        return
    async with db.transaction() as session:
        session.add_all(records)


_SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER IF NOT EXISTS access_audit_no_update BEFORE UPDATE ON access_audit "
    "BEGIN SELECT RAISE(ABORT, 'access_audit is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS access_audit_no_delete BEFORE DELETE ON access_audit "
    "BEGIN SELECT RAISE(ABORT, 'access_audit is append-only'); END",
]
_POSTGRES_APPEND_ONLY = [
    "CREATE OR REPLACE FUNCTION access_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'access_audit is append-only'; END $$",
    "DROP TRIGGER IF EXISTS access_audit_append_only ON access_audit",
    "CREATE TRIGGER access_audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON access_audit "
    "FOR EACH STATEMENT EXECUTE FUNCTION access_audit_append_only()",
]
APPEND_ONLY_DDL: dict[str, list[str]] = {"sqlite": _SQLITE_APPEND_ONLY, "postgresql": _POSTGRES_APPEND_ONLY}
"""Per SQL dialect: the triggers that make the database itself refuse to change or delete a row."""


for _dialect, _statements in APPEND_ONLY_DDL.items():
    for _statement in _statements:
        # create_all (a database without migrations) gets the triggers too; migrations run the same DDL.
        event.listen(
            AuditRecord.__table__,  # type: ignore[attr-defined]
            "after_create",
            DDL(_statement).execute_if(dialect=_dialect),  # type: ignore[no-untyped-call]
        )


def create_access_audit_table(op: Any) -> None:
    """The body of each service's migration that adds the audit: the table, its indexes, its triggers."""
    bind = op.get_bind()
    if not sa.inspect(bind).has_table("access_audit"):
        op.create_table(
            "access_audit",
            sa.Column("audit_id", sa.Uuid(), nullable=False),
            sa.Column("recorded_at", UtcDateTime(), nullable=False),
            sa.Column("user_id", sa.String(length=128), nullable=False),
            sa.Column("role", sa.String(length=32), nullable=False),
            sa.Column("organisation", sa.String(length=16), nullable=False),
            sa.Column("action", sa.String(length=1), nullable=False),
            sa.Column("operation", sa.String(length=64), nullable=False),
            sa.Column("resource_type", sa.String(length=32), nullable=False),
            sa.Column("resource_id", sa.String(length=64), nullable=True),
            sa.Column("patient_ref", sa.String(length=16), nullable=True),
            sa.Column("episode_id", sa.Uuid(), nullable=True),
            sa.Column("outcome", sa.String(length=1), nullable=False),
            sa.Column("detail", sa.String(length=200), nullable=True),
            sa.PrimaryKeyConstraint("audit_id"),
        )
        for column in ("recorded_at", "user_id", "patient_ref", "episode_id"):
            op.create_index(f"ix_access_audit_{column}", "access_audit", [column], unique=False)
    for statement in APPEND_ONLY_DDL.get(bind.dialect.name, []):
        op.execute(statement)
