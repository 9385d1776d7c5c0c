"""Hostile AMQP input never stops a consumer (issue 20), on a real RabbitMQ and a real database.

Hypothesis generates streams of hostile messages of every kind the black-box run found (1,000-deep
nesting, impossible instants, numbers read as Unix time, impossible dates of birth, control and bidi
characters, NHS numbers in identifier-free text, attendance before the appointment, oversize and
non-JSON bodies, broken handlers) interleaved with valid traffic. For every stream: each hostile message
is dead-lettered exactly once with a reason, nothing is redelivered, every valid message is applied, no
consumer is stuck, and no patient identifier reaches a log line or a dead-letter header.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import redirect_stderr
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from sqlmodel import Field, SQLModel, select

from shared.contracts.codes import AttendanceStatus, NextStep
from shared.contracts.envelope import Envelope
from shared.contracts.v1 import AppointmentAttended, AppointmentAttendedData, CallReceived
from shared.errors import RuleViolation
from shared.logging import configure_logging
from shared.messaging.consumer import REASON_HEADER, Subscription
from shared.service import ServiceHost
from tests.support.amqp import eventually, get_all, publish_event, publish_raw, queue_depth
from tests.support.clock import MONDAY_10AM
from tests.support.factories import PCN, PRACTICE, call_received
from tests.support.probe import probe_host

pytestmark = pytest.mark.integration

CALLS = "probe.on_call_received"
OUTCOMES = "probe.on_appointment_attended"
NHS_NUMBER = re.compile(r"(?<!\d)\d{10}(?!\d)")


class ProbeNote(SQLModel, table=True):
    """What the probe service applied: one row per valid event."""

    __tablename__ = "test_probe_notes"
    event_id: uuid.UUID = Field(primary_key=True)


async def _apply(session: Any, event: Any) -> None:
    reason = getattr(event.data, "reason", "")
    if reason == "breaks a rule":
        raise RuleViolation("data.reason: refused by the probe's rule")
    if reason == "trips a bug":
        _ = dict[str, int]()["missing"]  # a handler bug: a KeyError every time, so retrying cannot help
    session.add(ProbeNote(event_id=event.event_id))


@pytest.fixture
async def probe(
    amqp_url: str, make_database_url: Callable[[str], str]
) -> AsyncIterator[tuple[ServiceHost, io.StringIO]]:
    logs = io.StringIO()
    with redirect_stderr(logs):
        structlog.reset_defaults()
        configure_logging("probe", level="DEBUG", json=True)
        host = probe_host(
            "probe",
            amqp_url=amqp_url,
            database_url=make_database_url("probe"),
            tables=[ProbeNote],
            subscriptions=[
                Subscription("on_call_received", (CallReceived,), _apply),
                Subscription("on_appointment_attended", (AppointmentAttended,), _apply),
            ],
        )
        await host.start()
        try:
            yield host, logs
        finally:
            await host.stop()
            structlog.reset_defaults()


# --- what a hostile message looks like -------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    kind: str
    body: bytes
    routing_key: str
    queue: str
    message_id: str


def _call_json(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(call_received(occurred_at=MONDAY_10AM).model_dump_json())
    for path, value in changes.items():
        target = raw
        *parents, leaf = path.split("__")
        for part in parents:
            target = target[part]
        target[leaf] = value
    return raw


CALL_KEY = f"call.received.v1.{PCN}.{PRACTICE}"
OUTCOME_KEY = f"appointment.attended.v1.{PCN}.{PRACTICE}"


def _nested(depth: int, list_form: bool) -> bytes:
    if list_form:
        return b"[" * depth + b"1" + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


bad_instants = st.sampled_from(
    [
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "1999-12-31T23:59:59Z",
        "0001-01-01T00:00:00+01:00",  # no UTC instant at all: overflows on conversion
        "9999-12-31T23:59:59-01:00",
    ]
)
unix_times = st.integers(min_value=0, max_value=2**40) | st.floats(allow_nan=False, allow_infinity=False)
bad_births = st.sampled_from(["1800-01-01", "2100-01-01", "1880-06-30"])
dirty_text = st.sampled_from(["\x00", "\u202e", "\x1b[31m", "\x07", "\u2066", "\x7f", "\x9b"]).map(
    lambda ch: f"low mood{ch}and anxiety"
)


KINDS = [
    "deep_nesting",
    "not_json",
    "not_an_object",
    "oversize",
    "nan",
    "huge_integer",
    "bad_instant",
    "unix_time",
    "bad_birth",
    "dirty_text",
    "rule_violation",
    "handler_bug",
    "attended_before_start",
    "routing_mismatch",
    "unknown_type",
    "identity_as_event_type",
]


@st.composite
def hostile_messages(draw: st.DrawFn, kind: str | None = None) -> Hostile:
    kind = kind or draw(st.sampled_from(KINDS))
    key, queue = CALL_KEY, CALLS
    if kind == "deep_nesting":
        body = _nested(draw(st.sampled_from([17, 100, 1000, 5000])), draw(st.booleans()))
    elif kind == "not_json":
        body = draw(st.binary(min_size=1, max_size=200).filter(lambda b: not b.strip().startswith(b"{")))
    elif kind == "not_an_object":
        body = json.dumps(draw(st.sampled_from([[], "call", 42, None, True]))).encode()
    elif kind == "oversize":
        body = json.dumps(_call_json(data__reason="x" * 70_000)).encode()
    elif kind == "nan":
        body = json.dumps(_call_json(data__caller_urgency=float("nan"))).encode()
    elif kind == "huge_integer":
        body = json.dumps(_call_json()).replace('"channel": "telephone"', '"channel": ' + "9" * 5000).encode()
    elif kind == "bad_instant":
        body = json.dumps(_call_json(occurred_at=draw(bad_instants))).encode()
    elif kind == "unix_time":
        body = json.dumps(_call_json(occurred_at=draw(unix_times))).encode()
    elif kind == "bad_birth":
        body = json.dumps(_call_json(data__patient__date_of_birth=draw(bad_births))).encode()
    elif kind == "dirty_text":
        body = json.dumps(_call_json(data__reason=draw(dirty_text))).encode()
    elif kind == "rule_violation":
        body = json.dumps(_call_json(data__reason="breaks a rule")).encode()
    elif kind == "handler_bug":
        body = json.dumps(_call_json(data__reason="trips a bug")).encode()
    elif kind == "attended_before_start":
        raw = json.loads(_attended(starts_in=-timedelta(minutes=30)).model_dump_json())
        starts = MONDAY_10AM + timedelta(hours=draw(st.integers(min_value=1, max_value=500)))
        raw["data"]["appointment_starts_at"] = starts.isoformat()  # after the outcome was recorded
        body, key, queue = json.dumps(raw).encode(), OUTCOME_KEY, OUTCOMES
    elif kind == "routing_mismatch":
        body = json.dumps(_call_json(pcn_code="U99999")).encode()
    elif kind == "identity_as_event_type":
        raw = _call_json()
        raw["event_type"] = f"Jane Smith {raw['data']['patient']['nhs_number']} DOB 01/02/1980"
        body = json.dumps(raw).encode()
    else:
        body = json.dumps(_call_json(event_type="call.recieved")).encode()
    return Hostile(kind, body, key, queue, message_id=str(uuid.uuid4()))


def _attended(*, starts_in: timedelta) -> AppointmentAttended:
    """An attendance outcome recorded `starts_in` before the appointment starts (negative: after)."""
    return AppointmentAttended.create(
        AppointmentAttendedData(
            appointment_id=uuid.uuid4(),
            attendance=AttendanceStatus.ATTENDED,
            next_step=NextStep.DISCHARGE,
            appointment_starts_at=MONDAY_10AM + starts_in,
        ),
        producer=f"{PRACTICE}/clinical-system",
        pcn_code=PCN,
        practice_ods=PRACTICE,
        correlation_id=uuid.uuid4(),
        occurred_at=MONDAY_10AM,
    )


def _counter(queue: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value("mhp_messages_consumed_total", {"queue": queue, "outcome": outcome})
    return value or 0.0


# --- the property -----------------------------------------------------------------------------------


# Every kind at least once in each stream, then more drawn at random, in a shuffled order.
_every_kind = st.tuples(*(hostile_messages(k) for k in KINDS))
streams = (
    st.tuples(_every_kind, st.lists(hostile_messages(), max_size=15))
    .map(lambda parts: [*parts[0], *parts[1]])
    .flatmap(st.permutations)
)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hostile=streams, valid_calls=st.integers(3, 8))
async def test_hostile_messages_are_dead_lettered_once_and_stop_nothing(
    probe: tuple[ServiceHost, io.StringIO], amqp_url: str, hostile: list[Hostile], valid_calls: int
) -> None:
    host, logs = probe
    retries_before = _counter(CALLS, "retry") + _counter(OUTCOMES, "retry")
    valid = [call_received(date_of_birth=date(1961, 2, 27)) for _ in range(valid_calls)]
    valid_outcome: Envelope[Any] = _attended(starts_in=-timedelta(minutes=30))
    # Hostile messages first, so valid ones queue behind them (the black-box run's stuck prefetch).
    for message in hostile:
        await publish_raw(
            amqp_url, message.body, routing_key=message.routing_key, message_id=message.message_id
        )
    for event in [*valid, valid_outcome]:
        await publish_event(amqp_url, event)

    expected = {
        CALLS: [m for m in hostile if m.queue == CALLS],
        OUTCOMES: [m for m in hostile if m.queue == OUTCOMES],
    }
    dead: dict[str, list[Any]] = {}
    for queue, messages in expected.items():
        dead[queue] = await get_all(amqp_url, f"{queue}.dlq", expect=len(messages), timeout=60)
    applied_ids = {e.event_id for e in [*valid, valid_outcome]}

    async def all_applied() -> bool:
        async with host.db.read() as session:
            rows = (await session.exec(select(ProbeNote.event_id))).all()
        return applied_ids <= set(rows)

    await eventually(all_applied, timeout=60, message="not every valid message was applied")
    for queue in expected:
        assert await queue_depth(amqp_url, queue) == 0
        assert await queue_depth(amqp_url, f"{queue}.dlq") == 0, "a hostile message was dead-lettered twice"

    # Exactly once each, with a reason; nothing bounced back for a retry.
    for queue, messages in expected.items():
        got = sorted(str(d.message_id) for d in dead[queue])
        assert got == sorted(m.message_id for m in messages)
        assert all(d.headers.get(REASON_HEADER) for d in dead[queue])
    assert _counter(CALLS, "retry") + _counter(OUTCOMES, "retry") == retries_before, (
        "a hostile message was retried"
    )
    assert host.stuck_queues() == []
    assert (await host.readiness())["ready"]

    # No patient identifier (the valid calls' or the hostile ones') in a log line or dead-letter header.
    patients = [e.data.patient for e in valid]
    secrets = {p.nhs_number for p in patients} | {p.date_of_birth.isoformat() for p in patients}
    for message in hostile:
        secrets |= set(NHS_NUMBER.findall(message.body.decode("utf-8", "replace")))
    headers = json.dumps([d.headers for q in dead.values() for d in q], default=str)
    logged = logs.getvalue()
    for secret in secrets:
        assert secret not in logged
        assert secret not in headers
    assert "low mood" not in logged  # free-text reasons are never logged either
    assert "Jane Smith" not in logged
    assert "Jane Smith" not in headers


async def test_a_1000_deep_message_does_not_hold_up_valid_calls_behind_it(
    probe: tuple[ServiceHost, io.StringIO], amqp_url: str
) -> None:
    """The black-box run's exact case: 100 such messages used to stop the consumer for good."""
    host, _ = probe
    for _ in range(100):
        await publish_raw(amqp_url, _nested(1000, False), routing_key=CALL_KEY, message_id=str(uuid.uuid4()))
    valid = [call_received() for _ in range(20)]
    for event in valid:
        await publish_event(amqp_url, event)
    dead = await get_all(amqp_url, f"{CALLS}.dlq", expect=100, timeout=60)
    assert {d.headers[REASON_HEADER] for d in dead} == {"body nests deeper than 16 levels"}

    async def applied() -> bool:
        async with host.db.read() as session:
            return len((await session.exec(select(ProbeNote.event_id))).all()) == 20

    await eventually(applied, timeout=60, message="valid calls behind the hostile ones were not applied")
