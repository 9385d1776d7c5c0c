"""The access audit is append-only in the database itself, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.triage.bootstrap import MIGRATIONS
from shared.audit import AuditAction, AuditRecord, audit_record, record_access
from shared.db import Database
from shared.http.paging import PageRequest, decode_cursor, encode_cursor, window
from shared.identity import OrgKind, Principal, Role
from shared.migrations import prepare_schema
from shared.service import MESSAGING_TABLES

IG = Principal("ig.lead", "IG lead", Role.IG_LEAD, "RMH", OrgKind.TRUST, None)


@pytest.mark.parametrize("made_by", ["migrations", "create_all"])
async def test_the_database_refuses_to_change_or_delete_an_audit_row(
    make_database_url: Callable[[str], str], made_by: str
) -> None:
    db = Database(make_database_url("audit"), list(MESSAGING_TABLES))
    await prepare_schema(db, MIGRATIONS if made_by == "migrations" else None)
    try:
        await record_access(
            db,
            audit_record(IG, operation="call.read", action=AuditAction.READ, resource_type="Call"),
        )
        for statement in ("UPDATE access_audit SET user_id = 'someone.else'", "DELETE FROM access_audit"):
            with pytest.raises(DBAPIError, match="append-only"):
                async with db.transaction() as session:
                    await session.exec(text(statement))  # type: ignore[call-overload]
        async with db.read() as session:
            rows = (await session.exec(text("SELECT user_id FROM access_audit"))).all()  # type: ignore[call-overload]
        assert [row[0] for row in rows] == ["ig.lead"]
    finally:
        await db.dispose()


def test_a_cursor_round_trips_and_a_forged_one_is_refused() -> None:
    assert decode_cursor(encode_cursor(150)) == 150
    for forged in ("not-base64!", encode_cursor(-1), "eyJvIjogdHJ1ZX0", encode_cursor(10**9)):
        with pytest.raises(Exception, match="cursor") as refused:
            decode_cursor(forged)
        assert getattr(refused.value, "status_code", None) == 400
    assert list(window(list(range(10)), PageRequest(limit=3, offset=6))) == [6, 7, 8, 9]


def test_audit_rows_name_the_principal_and_never_need_a_body() -> None:
    row = audit_record(IG, operation="audit.search", action=AuditAction.EXECUTE, resource_type="AuditEvent")
    assert isinstance(row, AuditRecord)
    assert (row.user_id, row.role, row.organisation, row.action, row.outcome) == (
        "ig.lead",
        "ig_lead",
        "RMH",
        "E",
        "0",
    )
