"""Logging: per-message context is bound for every line, and no patient identifier is ever logged."""

from __future__ import annotations

import io
import json
import logging
import uuid
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy.exc import IntegrityError

from shared.db import Database, utcnow
from shared.logging import configure_logging, get_logger
from shared.messaging.inbox import InboxRecord
from shared.messaging.middleware import LogContextMiddleware
from shared.migrations import prepare_schema


class _Message:
    message_id = "0b8f6a4e-7c1d-4a4e-9a57-5d3f7f0f6c11"
    correlation_id = "5e0d2a8c-3f55-4f6e-8b9b-2f1c9e7a4d20"


async def test_middleware_binds_event_and_correlation_ids_only_while_the_message_is_handled() -> None:
    seen: dict[str, Any] = {}

    async def call_next(_msg: Any) -> str:
        seen.update(structlog.contextvars.get_contextvars())
        return "handled"

    middleware = LogContextMiddleware(_Message(), context=None)  # type: ignore[arg-type]
    assert await middleware.consume_scope(call_next, _Message()) == "handled"  # type: ignore[arg-type]
    assert seen["event_id"] == _Message.message_id
    assert seen["correlation_id"] == _Message.correlation_id
    assert "event_id" not in structlog.contextvars.get_contextvars()


def test_log_lines_are_json_with_the_service_name_off_a_terminal() -> None:
    stream = io.StringIO()
    with redirect_stderr(stream):
        configure_logging("triage", json=True)
        structlog.reset_defaults()
        configure_logging("triage", json=True)
        with structlog.contextvars.bound_contextvars(event_id="e-1"):
            get_logger("test").info("call_stored", queue="triage.on_call_received")
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["event"] == "call_stored"
    assert line["service"] == "triage"
    assert line["event_id"] == "e-1"
    assert line["level"] == "info"


def test_a_valid_nhs_number_in_any_log_value_is_redacted_but_other_numbers_are_kept() -> None:
    stream = io.StringIO()
    with redirect_stderr(stream):
        structlog.reset_defaults()
        configure_logging("triage", json=True)
        get_logger("test").warning(
            "careless_line", detail="patient 943 476 5919 said", number=9434765919, count=1234567890
        )
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["detail"] == "patient [redacted-nhs-number] said"
    assert line["number"] == "[redacted-nhs-number]"
    assert line["count"] == 1234567890  # fails Modulus 11: not an NHS number, kept as it is


def test_library_log_lines_and_tracebacks_go_through_the_same_redaction() -> None:
    stream = io.StringIO()
    with redirect_stderr(stream):
        structlog.reset_defaults()
        configure_logging("triage", json=True)
        try:
            raise ValueError("lookup failed for 943 476 5919")
        except ValueError:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["logger"] == "uvicorn.error"
    assert line["service"] == "triage"
    assert "943 476 5919" not in line["exception"]
    assert "[redacted-nhs-number]" in line["exception"]


async def test_database_errors_never_carry_the_rows_values(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/x.db", [InboxRecord.__table__])  # type: ignore[attr-defined]
    await prepare_schema(db)
    event_id = uuid.uuid4()

    def row() -> InboxRecord:
        return InboxRecord(consumer="reason: thoughts of suicide", event_id=event_id, processed_at=utcnow())

    async with db.transaction() as session:
        session.add(row())
    with pytest.raises(IntegrityError) as raised:
        async with db.transaction() as session:
            session.add(row())
    assert "thoughts of suicide" not in str(raised.value)
    assert "hidden due to hide_parameters" in str(raised.value)
    await db.dispose()
