"""Intake of call.received on a real broker and database: validation at the edge, deadlines, duplicates."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from services.triage.adapters.tables import TriageCall
from services.triage.bootstrap import TriageHost
from shared.contracts.codes import Channel
from shared.db import Database
from shared.messaging.consumer import REASON_HEADER
from tests.support.amqp import eventually, get_all, publish_event, publish_raw, queue_depth
from tests.support.clock import MONDAY_10AM
from tests.support.factories import call_received
from tests.triage.conftest import HostFactory

pytestmark = pytest.mark.integration

QUEUE = "triage.on_call_received"


async def _stored(db: Database, call_id: uuid.UUID) -> TriageCall | None:
    async with db.read() as session:
        return await session.get(TriageCall, call_id)


async def _wait_stored(db: Database, call_id: uuid.UUID) -> TriageCall:
    async def present() -> bool:
        return await _stored(db, call_id) is not None

    await eventually(present, message="call never reached the worklist")
    call = await _stored(db, call_id)
    assert call is not None
    return call


async def test_every_channel_is_taken_in_with_its_callback_deadline_in_working_time(
    triage: TriageHost, amqp_url: str
) -> None:
    expected = {
        Channel.TELEPHONE: MONDAY_10AM + timedelta(hours=2),
        Channel.WALK_IN: MONDAY_10AM + timedelta(hours=2),
        Channel.E_CONSULTATION: MONDAY_10AM + timedelta(days=1),
        Channel.GP_TASK: MONDAY_10AM + timedelta(days=1),
        Channel.DIRECT_BOOKING: MONDAY_10AM + timedelta(days=1),
    }
    events = {channel: call_received(channel=channel, occurred_at=MONDAY_10AM) for channel in expected}
    for event in events.values():
        await publish_event(amqp_url, event)
    for channel, event in events.items():
        call = await _wait_stored(triage.db, event.data.call_id)
        assert call.callback_due_at == expected[channel], channel
        assert call.status == "awaiting_triage"


async def test_callback_target_is_configurable_per_pcn(make_host: HostFactory, amqp_url: str) -> None:
    host = make_host(pcn_callback_targets={"U00123": {"telephone": "45m"}})
    await host.start()
    event = call_received(occurred_at=MONDAY_10AM)
    await publish_event(amqp_url, event)
    call = await _wait_stored(host.db, event.data.call_id)
    assert call.callback_due_at == MONDAY_10AM + timedelta(minutes=45)


async def test_duplicate_call_received_makes_one_worklist_entry(
    triage: TriageHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    event = call_received(occurred_at=MONDAY_10AM)
    await publish_event(amqp_url, event)
    await publish_event(amqp_url, event)  # redelivered by the practice system: same event id
    await publish_event(amqp_url, event.model_copy(update={"event_id": uuid.uuid4()}))  # re-sent
    await _wait_stored(triage.db, event.data.call_id)

    async def drained() -> bool:
        return await queue_depth(amqp_url, QUEUE) == 0

    await eventually(drained)
    worklist = (await client.get("/worklist", params={"pcn": "U00123"})).json()
    assert [entry["call_id"] for entry in worklist] == [str(event.data.call_id)]


def _with(raw: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    target = raw
    *parents, leaf = path.split(".")
    for key in parents:
        target = target[key]
    target[leaf] = value
    return raw


def _wrong_check_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


@pytest.mark.parametrize(
    ("field", "value", "reason_part"),
    [
        ("data.patient.nhs_number", _wrong_check_digit, "Modulus 11"),
        ("data.patient.nhs_number", "12345", "10 digits"),
        ("data.patient.date_of_birth", "2027-01-01", "after the date of the call"),
        ("data.patient.date_of_birth", "1880-01-01", "over 125"),
        ("practice_ods", "Y0123", "practice_ods"),
        ("pcn_code", "X00123", "pcn_code"),
        ("data.channel", "carrier_pigeon", "data.channel"),
    ],
)
async def test_call_failing_identity_validation_is_dead_lettered_with_an_actionable_reason(
    triage: TriageHost, amqp_url: str, field: str, value: Any, reason_part: str
) -> None:
    bad = call_received(occurred_at=MONDAY_10AM)
    raw = json.loads(bad.model_dump_json())
    if callable(value):
        value = value(raw["data"]["patient"]["nhs_number"])
    _with(raw, field, value)
    await publish_raw(
        amqp_url, json.dumps(raw).encode(), routing_key=bad.routing_key, message_id=str(bad.event_id)
    )
    good = call_received(occurred_at=MONDAY_10AM)
    await publish_event(amqp_url, good)

    [dead] = await get_all(amqp_url, f"{QUEUE}.dlq", expect=1)
    reason = dead.headers[REASON_HEADER]
    assert field.split(".")[-1] in reason
    assert reason_part in reason
    assert raw["data"]["patient"]["nhs_number"] not in reason  # no patient data in the reason
    assert await _stored(triage.db, bad.data.call_id) is None
    await _wait_stored(triage.db, good.data.call_id)  # nothing valid is dropped


async def test_call_id_reused_for_another_patient_is_dead_lettered_not_merged(
    triage: TriageHost, amqp_url: str
) -> None:
    first = call_received(occurred_at=MONDAY_10AM, date_of_birth=date(1980, 1, 1))
    await publish_event(amqp_url, first)
    await _wait_stored(triage.db, first.data.call_id)
    other_patient = call_received(call_id=first.data.call_id, occurred_at=MONDAY_10AM)
    await publish_event(amqp_url, other_patient)

    [dead] = await get_all(amqp_url, f"{QUEUE}.dlq", expect=1)
    assert dead.message_id == str(other_patient.event_id)
    assert "data.call_id: already used for a different patient" in dead.headers[REASON_HEADER]
    call = await _stored(triage.db, first.data.call_id)
    assert call is not None
    assert call.date_of_birth == date(1980, 1, 1)
