"""Migration 0004 numbers the decisions made before it, in audit-trail order, and each call's current one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import text

from mhp.db import service_database
from shared.migrations import check, upgrade
from tests.support.clock import MONDAY_10AM

CALL = """INSERT INTO triage_calls (call_id, correlation_id, received_event_id, pcn_code, practice_ods,
 channel, caller_urgency, reason, nhs_number, date_of_birth, received_at, red_flags, priority, status,
 latest_decision_id, callback_due_at) VALUES (:id, :id, :id, 'U00123', 'Y01234', 'telephone', 'routine',
 'low mood', '9434765919', '1985-06-01', :at, 0, 2, :status, :latest, :at)"""
DECISION = """INSERT INTO triage_decisions (decision_id, call_id, event_id, triage_code, disposition,
 clinician, decided_at, complex_needs) VALUES (:id, :call, :id, :code, 'appointment', 'mhp.1', :at, 0)"""


def _hex(value: uuid.UUID) -> str:
    return value.hex  # how SQLAlchemy's Uuid stores a UUID on SQLite


async def test_decisions_made_before_the_sequence_are_numbered_in_order(
    make_database_url: Callable[[str], str],
) -> None:
    db, migrations = service_database("triage", make_database_url("triage"))
    assert migrations is not None
    if db.dialect != "sqlite":
        return  # the SQL is standard; the inserts below spell SQLite's storage of UUIDs
    triaged, untriaged = uuid.uuid4(), uuid.uuid4()
    decisions = [uuid.uuid4() for _ in range(3)]
    try:
        await upgrade(db, migrations, revision="0003")
        async with db.engine.begin() as conn:
            at = MONDAY_10AM.replace(tzinfo=None)
            await conn.execute(
                text(CALL), {"id": _hex(triaged), "at": at, "status": "triaged", "latest": _hex(decisions[2])}
            )
            await conn.execute(
                text(CALL), {"id": _hex(untriaged), "at": at, "status": "awaiting_triage", "latest": None}
            )
            # Inserted out of order: E at 10:30, D at 10:10, C (the current one) at 10:50.
            for decision, code, minutes in zip(decisions, "EDC", (30, 10, 50), strict=True):
                row = {"id": _hex(decision), "call": _hex(triaged), "code": code}
                await conn.execute(text(DECISION), row | {"at": at + timedelta(minutes=minutes)})

        await upgrade(db, migrations)

        assert await check(db, migrations) == []
        async with db.engine.connect() as conn:
            numbered = (
                await conn.execute(text("SELECT triage_code, decision_sequence FROM triage_decisions"))
            ).all()
            calls = (await conn.execute(text("SELECT status, decision_sequence FROM triage_calls"))).all()
        assert sorted(numbered, key=lambda row: row[1]) == [("D", 1), ("E", 2), ("C", 3)]
        assert sorted(calls) == [("awaiting_triage", 0), ("triaged", 3)]
    finally:
        await db.dispose()
