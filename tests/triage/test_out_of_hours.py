"""Red flags out of working hours, on a real broker and database: the crisis team is told at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func
from sqlmodel import select

from services.triage.adapters.tables import TriageCall
from services.triage.bootstrap import TriageHost
from shared.contracts.routing import binding_key
from shared.contracts.v1 import CallReceived
from shared.messaging.outbox import OutboxMessage
from tests.support.amqp import EventCapture, eventually, publish_event
from tests.support.clock import FakeClock
from tests.support.factories import call_received

pytestmark = pytest.mark.integration

FRIDAY_7PM = datetime(2026, 11, 20, 19, tzinfo=UTC)  # 19:00 in London (GMT in November)
NEXT_MONDAY_10AM = datetime(2026, 11, 23, 10, tzinfo=UTC)
RED_FLAG = "wants to end it all"


async def _take_in(host: TriageHost, url: str, event: CallReceived) -> TriageCall:
    await publish_event(url, event)

    async def stored() -> bool:
        async with host.db.read() as session:
            return await session.get(TriageCall, event.data.call_id) is not None

    await eventually(stored, message="call never reached the worklist")
    async with host.db.read() as session:
        call = await session.get(TriageCall, event.data.call_id)
    assert call is not None
    return call


async def _escalations_staged(host: TriageHost) -> int:
    async with host.db.read() as session:
        query = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.event_type == "case.escalated")
        )
        return int((await session.exec(query)).one())


def _for(capture: EventCapture, call_id: uuid.UUID) -> list[dict[str, object]]:
    return [e for e in capture.of_type("case.escalated") if e["data"]["call_id"] == str(call_id)]


async def test_red_flag_call_at_friday_7pm_escalates_at_once_but_not_in_hours_or_without_red_flags(
    triage: TriageHost, amqp_url: str, clock: FakeClock
) -> None:
    friday_red_flag = call_received(reason=RED_FLAG, occurred_at=FRIDAY_7PM)
    friday_routine = call_received(occurred_at=FRIDAY_7PM)
    monday_red_flag = call_received(reason=RED_FLAG, occurred_at=NEXT_MONDAY_10AM)
    async with EventCapture(amqp_url, binding_key("case.escalated")) as capture:
        clock.now = FRIDAY_7PM
        stored = await _take_in(triage, amqp_url, friday_red_flag)
        # At once: the clock stays at Friday 19:00; nothing waits for Monday's callback deadline.
        await eventually(lambda: len(_for(capture, friday_red_flag.data.call_id)) == 1)
        await _take_in(triage, amqp_url, friday_routine)
        # In hours the same reason goes first on the worklist, for the MHP. (Friday's calls are due at
        # 10:00 exactly, so the deadline watchdog has nothing to escalate yet either.)
        clock.now = NEXT_MONDAY_10AM
        await _take_in(triage, amqp_url, monday_red_flag)
        await triage.relay.run_once()  # anything else staged is out now
    [escalated] = capture.of_type("case.escalated")
    data = escalated["data"]
    assert isinstance(data, dict)
    assert (data["target"], data["reason"]) == ("crisis_team", "red_flag_out_of_hours")
    assert datetime.fromisoformat(str(data["due_at"])) == FRIDAY_7PM
    assert escalated["causation_id"] == str(friday_red_flag.event_id)
    assert friday_red_flag.data.patient.nhs_number not in str(escalated)
    assert str(stored.out_of_hours_escalation_event_id) == escalated["event_id"]
    assert stored.out_of_hours_escalated_to == "crisis_team"
    assert await _escalations_staged(triage) == 1
