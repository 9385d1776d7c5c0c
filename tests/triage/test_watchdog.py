"""The callback-deadline watchdog on a real broker and database: fires once, on time, across restarts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from services.triage.adapters.tables import TriageCall
from services.triage.bootstrap import TriageHost
from shared.contracts.routing import binding_key
from shared.contracts.v1 import CallReceived
from shared.messaging.outbox import OutboxMessage
from tests.support.amqp import EventCapture, eventually, publish_event
from tests.support.clock import MONDAY_10AM, FakeClock
from tests.support.factories import call_received
from tests.triage.conftest import HostFactory

pytestmark = pytest.mark.integration

TELEPHONE_DUE = MONDAY_10AM + timedelta(hours=2)


async def _call(host: TriageHost, call_id: uuid.UUID) -> TriageCall:
    async with host.db.read() as session:
        call = await session.get(TriageCall, call_id)
    assert call is not None
    return call


async def _take_in(host: TriageHost, url: str, event: CallReceived) -> None:
    await publish_event(url, event)

    async def stored() -> bool:
        async with host.db.read() as session:
            return await session.get(TriageCall, event.data.call_id) is not None

    await eventually(stored)


async def _let_watchdog_scan(host: TriageHost, times: int = 3) -> None:
    """Wait for whole watchdog passes (not wall time): what it would do, it has then done."""
    target = host.watchdog.passes + times
    await eventually(lambda: host.watchdog.passes >= target, message="watchdog did not scan")


async def _escalations_staged(host: TriageHost) -> int:
    """case.escalated rows in the outbox: a second firing would have to be staged here."""
    async with host.db.read() as session:
        query = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.event_type == "case.escalated")
        )
        return int((await session.exec(query)).one())


def _escalations(capture: EventCapture, call_id: uuid.UUID) -> list[dict[str, object]]:
    return [e for e in capture.of_type("case.escalated") if e["data"]["call_id"] == str(call_id)]


async def test_call_untriaged_past_its_callback_deadline_is_escalated_to_the_duty_gp_once(
    triage: TriageHost, amqp_url: str, clock: FakeClock
) -> None:
    event = call_received(occurred_at=MONDAY_10AM)
    async with EventCapture(amqp_url, binding_key("case.escalated")) as capture:
        await _take_in(triage, amqp_url, event)
        clock.now = TELEPHONE_DUE  # exactly at the limit: still within target
        await _let_watchdog_scan(triage)
        assert (await _call(triage, event.data.call_id)).escalated_at is None

        clock.now = TELEPHONE_DUE + timedelta(seconds=1)
        await eventually(lambda: len(_escalations(capture, event.data.call_id)) == 1)
        clock.advance(timedelta(hours=3))
        await _let_watchdog_scan(triage)
        await triage.relay.run_once()
    [escalated] = _escalations(capture, event.data.call_id)
    data = escalated["data"]
    assert isinstance(data, dict)
    assert data["target"] == "duty_gp"
    assert data["reason"] == "triage_deadline_breach"
    assert datetime.fromisoformat(str(data["due_at"])) == TELEPHONE_DUE
    assert escalated["correlation_id"] == str(event.correlation_id)
    call = await _call(triage, event.data.call_id)
    assert await _escalations_staged(triage) == 1
    assert call.escalated_at == TELEPHONE_DUE + timedelta(seconds=1)
    assert str(call.escalation_event_id) == escalated["event_id"]


async def test_watchdog_never_fires_for_a_call_already_triaged(
    triage: TriageHost, client: httpx.AsyncClient, amqp_url: str, clock: FakeClock
) -> None:
    event = call_received(occurred_at=MONDAY_10AM)
    async with EventCapture(amqp_url, binding_key("#")) as capture:
        await _take_in(triage, amqp_url, event)
        clock.now = TELEPHONE_DUE  # triaged at the very last moment
        response = await client.post(f"/calls/{event.data.call_id}/decision", json={"triage_code": "E"})
        assert response.status_code == 201
        clock.advance(timedelta(days=3))
        await _let_watchdog_scan(triage)
        await capture.wait_for(2)  # call.received and call.triaged: what was staged is out
        await triage.relay.run_once()
    assert _escalations(capture, event.data.call_id) == []
    assert await _escalations_staged(triage) == 0
    assert (await _call(triage, event.data.call_id)).escalated_at is None


async def test_escalated_call_stays_on_the_worklist_marked_breached_until_triaged(
    triage: TriageHost, client: httpx.AsyncClient, amqp_url: str, clock: FakeClock
) -> None:
    event = call_received(occurred_at=MONDAY_10AM)
    await _take_in(triage, amqp_url, event)
    clock.now = TELEPHONE_DUE + timedelta(minutes=1)

    async def escalated() -> bool:
        return (await _call(triage, event.data.call_id)).escalated_at is not None

    await eventually(escalated)
    [entry] = (await client.get("/worklist", params={"pcn": "U00123"})).json()
    assert entry["deadline_breached"] is True
    assert entry["escalated_to_duty_gp_at"] is not None
    assert entry["waiting_minutes"] == 121


async def test_watchdog_fires_once_overall_across_a_service_restart(
    make_host: HostFactory, amqp_url: str, clock: FakeClock
) -> None:
    overdue_before_stop = call_received(occurred_at=MONDAY_10AM)
    overdue_while_down = call_received(occurred_at=MONDAY_10AM + timedelta(hours=1))
    async with EventCapture(amqp_url, binding_key("case.escalated")) as capture:
        first = make_host()
        await first.start()
        await _take_in(first, amqp_url, overdue_before_stop)
        await _take_in(first, amqp_url, overdue_while_down)
        clock.now = TELEPHONE_DUE + timedelta(minutes=1)  # only the first call is overdue
        await eventually(lambda: len(_escalations(capture, overdue_before_stop.data.call_id)) == 1)
        await first.stop()

        # The deadline of the second call passes while the service is down.
        clock.now = TELEPHONE_DUE + timedelta(hours=2)
        second = make_host()  # a new process on the same database
        await second.start()
        await eventually(lambda: len(_escalations(capture, overdue_while_down.data.call_id)) == 1)
        await _let_watchdog_scan(second)
        await second.stop()

        third = make_host()
        await third.start()
        clock.advance(timedelta(days=1))
        await _let_watchdog_scan(third)
        await third.relay.run_once()
        await third.stop()
    check = make_host()  # only to read the shared database
    assert await _escalations_staged(check) == 2
    await check.db.dispose()
    assert len(_escalations(capture, overdue_before_stop.data.call_id)) == 1
    assert len(_escalations(capture, overdue_while_down.data.call_id)) == 1
    assert len(capture.of_type("case.escalated")) == 2


async def test_two_instances_running_at_once_escalate_an_overdue_call_once(
    make_host: HostFactory, amqp_url: str, clock: FakeClock
) -> None:
    one, two = make_host(), make_host()
    await one.start()
    await two.start()
    events = [call_received(occurred_at=MONDAY_10AM) for _ in range(10)]
    for event in events:
        await _take_in(one, amqp_url, event)
    clock.now = TELEPHONE_DUE + timedelta(minutes=1)
    await _let_watchdog_scan(one)
    await _let_watchdog_scan(two)
    assert await _escalations_staged(one) == 10
