"""`mhp dlq` rules without a broker: what `show` redacts, which fixes `replay` refuses before publishing."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from mhp import dlq
from shared.messaging.dead_letter_alarm import BODY_HASH_HEADER
from tests.support.factories import call_received


def test_show_redacts_the_patient_free_text_and_unknown_fields_but_keeps_ids_and_codes() -> None:
    event = call_received(reason="wants to end it all")
    raw = json.loads(event.model_dump_json())
    raw["data"]["note_from_sender"] = "Jane Smith"
    shown = dlq.redact(json.dumps(raw).encode(), identity=False)
    assert shown["data"]["patient"] == dlq.REDACTED
    assert shown["data"]["reason"] == dlq.REDACTED
    assert shown["data"]["note_from_sender"] == dlq.REDACTED
    assert shown["data"]["call_id"] == str(event.data.call_id)
    assert shown["data"]["channel"] == "telephone"
    assert (shown["pcn_code"], shown["event_id"]) == (event.pcn_code, str(event.event_id))
    assert dlq.redact(json.dumps(raw).encode(), identity=True)["data"]["reason"] == "wants to end it all"


def test_show_redacts_everything_of_an_unknown_type_and_a_body_that_is_not_json() -> None:
    unknown = dlq.redact(json.dumps({"event_type": "x.y", "data": {"name": "Jane"}}).encode(), identity=False)
    assert unknown == {"event_type": dlq.REDACTED, "data": dlq.REDACTED}
    assert "Jane" not in str(dlq.redact(b"Jane Smith 1985", identity=False))


@dataclass
class FakeMessage:
    body: bytes
    message_id: str
    headers: dict[str, Any] = field(default_factory=dict)
    correlation_id: str | None = None
    type: str | None = "call.received"
    user_id: str | None = "practice-y01234"
    routing_key: str | None = None


def _taken(body: bytes, message_id: str, routing_key: str) -> dlq.Taken:
    headers = {"x-mhp-routing-key": routing_key, BODY_HASH_HEADER: "h"}
    copy = dlq.Copy("triage.on_call_received.dlq", FakeMessage(body, message_id, headers))  # type: ignore[arg-type]
    return dlq.Taken(connection_channel=None, copies=[copy], url="amqp://unused")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"practice_ods": "Y09999"}, "routing key"),
        ({"event_id": str(uuid.uuid4())}, "event_id"),
        ({"occurred_at": "not a time"}, "not a valid event"),
    ],
    ids=["other-practice", "new-event-id", "still-invalid"],
)
async def test_replay_refuses_a_fix_that_moves_renames_or_still_breaks_the_event(
    change: dict[str, str], refusal: str
) -> None:
    event = call_received()
    original = event.model_dump_json().encode()
    fixed = {**json.loads(original), **change}
    with pytest.raises(dlq.DlqError, match=refusal):
        await dlq.replay(
            _taken(original, str(event.event_id), event.routing_key),
            str(event.event_id),
            json.dumps(fixed).encode(),
        )


async def test_an_unknown_id_is_refused() -> None:
    event = call_received()
    with pytest.raises(dlq.DlqError, match="no dead letter"):
        await dlq.discard(_taken(b"{}", str(event.event_id), event.routing_key), "nope")
