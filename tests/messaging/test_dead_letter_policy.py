"""What a dead letter carries: our reason and provenance, never the sender's headers, and one id per bad
body even when the sender gave none (so every consumer's copy groups as one bad input)."""

from __future__ import annotations

from typing import Any

from shared.contracts.v1 import CallReceived
from shared.db import Database
from shared.messaging.consumer import (
    BODY_HASH_HEADER,
    REASON_HEADER,
    Delivery,
    MessageProcessor,
    Subscription,
)
from shared.messaging.senders import SenderCheck


class Sink:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    async def publish_dead_letter(
        self, body: bytes, *, queue: str, properties: dict[str, Any], headers: dict[str, Any]
    ) -> None:
        self.sent.append((queue, properties, headers))


async def _ignore(_session: Any, _event: Any) -> None:
    return None


async def test_copies_of_an_anonymous_bad_body_share_one_id_and_carry_no_sender_headers() -> None:
    sink = Sink()
    processor = MessageProcessor(
        db=Database("sqlite+aiosqlite:///:memory:", []), dead_letters=sink, senders=SenderCheck("RMH")
    )
    subscription = Subscription("on_call_received", (CallReceived,), _ignore)
    delivery = Delivery(
        body=b"not json",
        routing_key="call.received.v1.U00123.Y01234",
        message_id=None,
        correlation_id=None,
        message_type=None,
        headers={"x-patient-name": "Jane Smith", "x-delivery-count": 0},
    )
    for queue in ("triage.on_call_received", "metrics.on_event"):
        await processor.process(queue, subscription, delivery)
    (_, first, first_headers), (_, second, _) = sink.sent
    assert first["message_id"] == second["message_id"]
    assert first["message_id"].startswith("sha256:")
    assert set(first_headers) == {
        REASON_HEADER,
        BODY_HASH_HEADER,
        "x-mhp-queue",
        "x-mhp-routing-key",
        "x-mhp-dead-lettered-at",
    }
