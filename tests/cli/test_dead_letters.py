"""`mhp dead-letters` shows one line per bad input, however many consumers refused it, and removes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from mhp.dead_letters import peek
from shared.contracts.v1 import CallReceived
from shared.messaging.consumer import Subscription
from shared.service import ServiceHost
from tests.support.amqp import eventually, publish_raw, queue_depth
from tests.support.factories import call_received
from tests.support.probe import probe_host

pytestmark = pytest.mark.integration

QUEUES = ("twin.on_call_received", "twin.archive_call_received")


async def _ignore(_session: Any, _event: Any) -> None:
    return None


@pytest.fixture
async def twins(amqp_url: str, make_database_url: Callable[[str], str]) -> AsyncIterator[ServiceHost]:
    """Two consumers of call.received, as triage and metrics are."""
    host = probe_host(
        "twin",
        amqp_url=amqp_url,
        database_url=make_database_url("twin"),
        subscriptions=[
            Subscription("on_call_received", (CallReceived,), _ignore),
            Subscription("archive_call_received", (CallReceived,), _ignore),
        ],
    )
    await host.start()
    yield host
    await host.stop()


async def test_copies_of_one_bad_input_are_grouped_and_left_in_place(
    twins: ServiceHost, amqp_url: str
) -> None:
    bad = call_received()
    raw = json.loads(bad.model_dump_json())
    raw["occurred_at"] = "0001-01-01T00:00:00Z"
    await publish_raw(
        amqp_url, json.dumps(raw).encode(), routing_key=bad.routing_key, message_id=str(bad.event_id)
    )
    unparsed_id = str(uuid.uuid4())
    await publish_raw(amqp_url, b"\x00not json", routing_key=bad.routing_key, message_id=unparsed_id)
    await publish_raw(amqp_url, b"no id at all", routing_key=bad.routing_key)  # grouped by its body
    dlqs = [f"{q}.dlq" for q in QUEUES]

    async def both_dead_lettered() -> bool:
        return all([await queue_depth(amqp_url, q) == 3 for q in dlqs])

    await eventually(both_dead_lettered, message="both consumers should have dead-lettered both messages")
    letters = {d.message_id: d for d in await peek(amqp_url, [*dlqs, "no.such.queue.dlq"])}

    [anonymous] = set(letters) - {str(bad.event_id), unparsed_id}
    assert len(letters) == 3
    assert letters[anonymous].copies == 2
    invalid = letters[str(bad.event_id)]
    assert sorted(invalid.queues) == sorted(dlqs)
    assert invalid.copies == 2
    [reason] = invalid.reasons
    assert "occurred_at" in reason
    assert letters[unparsed_id].reasons == ["body is not valid JSON (UnicodeDecodeError)"]
    # A peek: everything is still there for the operator to replay or discard.
    await eventually(both_dead_lettered, message="the peek removed dead letters")
