"""What a dead letter carries: our reason and provenance, never the sender's headers, and one id per bad
body even when the sender gave none (so every consumer's copy groups as one bad input). Every dead letter
is counted; a clinical one dead-lettered by a service that escalates stages a platform-operator
`case.escalated` in its outbox, and nothing on that path can fail the consumer."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlmodel import select

from shared.contracts.codes import EscalationReason, EscalationTarget
from shared.contracts.v1 import CallReceived, CaseEscalated, CaseEscalatedData
from shared.db import Database
from shared.messaging.consumer import (
    BODY_HASH_HEADER,
    REASON_HEADER,
    Delivery,
    MessageProcessor,
    Outcome,
    PermanentFailure,
    Subscription,
)
from shared.messaging.dead_letter_alarm import KIND_HEADER, ORIGINAL_USER_HEADER
from shared.messaging.outbox import OutboxMessage
from shared.messaging.senders import SenderCheck
from shared.service import MESSAGING_TABLES
from tests.support.factories import call_received


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
        KIND_HEADER,
        "x-mhp-queue",
        "x-mhp-routing-key",
        "x-mhp-dead-lettered-at",
    }


TRIAGE_QUEUE = "triage.on_call_received"
SUBSCRIPTION = Subscription("on_call_received", (CallReceived,), _ignore)


def _implausible_call() -> tuple[bytes, str, str]:
    """A practice's call.received whose date of birth is impossible: (body, routing key, call id)."""
    event = call_received()
    raw = json.loads(event.model_dump_json())
    raw["data"]["patient"]["date_of_birth"] = "1850-01-01"
    return json.dumps(raw).encode(), event.routing_key, str(event.data.call_id)


def _delivery(body: bytes, routing_key: str, user_id: str | None = "practice-y01234") -> Delivery:
    return Delivery(
        body=body,
        routing_key=routing_key,
        message_id=None,
        correlation_id=None,
        message_type="call.received",
        headers={},
        user_id=user_id,
    )


def _count(queue: str, event_type: str, reason: str) -> float:
    labels = {"service": queue.split(".")[0], "queue": queue, "event_type": event_type, "reason": reason}
    return REGISTRY.get_sample_value("mhp_dead_letters_total", labels) or 0.0


def _escalations(service: str, outcome: str) -> float:
    labels = {"service": service, "outcome": outcome}
    return REGISTRY.get_sample_value("mhp_dead_letter_escalations_total", labels) or 0.0


@pytest.fixture
async def database(tmp_path: Path) -> Any:
    from shared.migrations import prepare_schema

    db = Database(f"sqlite+aiosqlite:///{tmp_path}/spine.db", MESSAGING_TABLES)
    await prepare_schema(db)
    yield db
    await db.dispose()


async def _staged(db: Database) -> list[OutboxMessage]:
    async with db.read() as session:
        return list((await session.exec(select(OutboxMessage))).all())


async def test_a_clinical_dead_letter_is_counted_and_escalated_once_to_the_platform_operator(
    database: Database,
) -> None:
    sink = Sink()
    processor = MessageProcessor(db=database, dead_letters=sink, senders=SenderCheck("RMH"))
    body, routing_key, call_id = _implausible_call()
    before = _count(TRIAGE_QUEUE, "call.received", "contract")

    for _ in range(2):  # dead-lettered again (say a replay that was not fixed): one escalation
        outcome = await processor.process(TRIAGE_QUEUE, SUBSCRIPTION, _delivery(body, routing_key))
        assert outcome is Outcome.DEAD_LETTERED

    assert _count(TRIAGE_QUEUE, "call.received", "contract") == before + 2
    assert sink.sent[0][2][ORIGINAL_USER_HEADER] == "practice-y01234"
    [row] = await _staged(database)
    escalation = CaseEscalated.model_validate_json(row.body)
    original = json.loads(body)
    assert escalation.data.target is EscalationTarget.PLATFORM_OPERATOR
    assert escalation.data.reason is EscalationReason.DEAD_LETTER
    assert escalation.producer == "RMH/triage"  # triage publishes as itself
    assert (escalation.pcn_code, escalation.practice_ods) == (original["pcn_code"], original["practice_ods"])
    assert str(escalation.causation_id) == original["event_id"]
    assert str(escalation.correlation_id) == original["correlation_id"]
    assert str(escalation.data.call_id) == call_id
    text = row.body.decode()
    assert original["data"]["patient"]["nhs_number"] not in text
    assert "1850-01-01" not in text
    assert original["data"]["reason"] not in text


@pytest.mark.parametrize(
    ("queue", "body", "routing_key"),
    [
        ("metrics.on_event", None, None),  # metrics may not publish case.escalated: counter only
        (TRIAGE_QUEUE, b"{not json", "call.received.v1.U00123.Y01234"),  # no envelope to route by
        (TRIAGE_QUEUE, None, "call.received.v1.U00999.Y09999"),  # routing disagrees with the envelope
    ],
    ids=["metrics", "bad-json", "wrong-routing"],
)
async def test_a_dead_letter_without_a_routable_clinical_envelope_is_only_counted(
    database: Database, queue: str, body: bytes | None, routing_key: str | None
) -> None:
    processor = MessageProcessor(db=database, dead_letters=Sink(), senders=SenderCheck("RMH"))
    clinical, clinical_key, _ = _implausible_call()
    body, routing_key = body or clinical, routing_key or clinical_key
    label = "call.received" if body == clinical else "unknown"
    before = _count(queue, label, "contract")

    outcome = await processor.process(queue, SUBSCRIPTION, _delivery(body, routing_key))

    assert outcome is Outcome.DEAD_LETTERED
    assert _count(queue, label, "contract") == before + 1
    assert await _staged(database) == []


async def test_an_event_type_label_is_a_catalogue_type_never_the_senders_text(database: Database) -> None:
    processor = MessageProcessor(db=database, dead_letters=Sink(), senders=SenderCheck("RMH"))
    body = json.dumps({"event_type": "Jane Smith 943 476 5919", "data": {}}).encode()
    before = _count(TRIAGE_QUEUE, "unknown", "contract")
    await processor.process(TRIAGE_QUEUE, SUBSCRIPTION, _delivery(body, "call.received.v1.U00123.Y01234"))
    assert _count(TRIAGE_QUEUE, "unknown", "contract") == before + 1


async def test_a_failure_to_stage_the_escalation_still_dead_letters_and_is_counted(tmp_path: Path) -> None:
    # A database with no outbox table: staging fails, the message must still go to its DLQ.
    broken = Database(f"sqlite+aiosqlite:///{tmp_path}/empty.db", [])
    sink = Sink()
    processor = MessageProcessor(db=broken, dead_letters=sink, senders=SenderCheck("RMH"))
    body, routing_key, _ = _implausible_call()
    failed = _escalations("triage", "failed")

    outcome = await processor.process(TRIAGE_QUEUE, SUBSCRIPTION, _delivery(body, routing_key))

    assert outcome is Outcome.DEAD_LETTERED
    assert len(sink.sent) == 1
    assert _escalations("triage", "failed") == failed + 1
    await broken.dispose()


async def test_a_dead_lettered_dead_letter_escalation_raises_no_further_escalation(
    database: Database,
) -> None:
    escalation = CaseEscalated.create(
        CaseEscalatedData(
            escalation_id=uuid.uuid4(),
            target=EscalationTarget.PLATFORM_OPERATOR,
            reason=EscalationReason.DEAD_LETTER,
        ),
        producer="RMH/triage",
        pcn_code="U00123",
        practice_ods="Y01234",
        correlation_id=uuid.uuid4(),
    )

    async def refuse(_session: Any, _event: Any) -> None:
        raise PermanentFailure("the escalation owner cannot apply it")

    processor = MessageProcessor(db=database, dead_letters=Sink(), senders=SenderCheck("RMH"))
    subscription = Subscription("on_case_escalated", (CaseEscalated,), refuse)
    guarded = _escalations("referrals", "loop_guard")
    delivery = Delivery(
        body=escalation.model_dump_json().encode(),
        routing_key=escalation.routing_key,
        message_id=str(escalation.event_id),
        correlation_id=None,
        message_type="case.escalated",
        headers={},
        user_id="mhp-triage",
    )

    outcome = await processor.process("referrals.on_case_escalated", subscription, delivery)

    assert outcome is Outcome.DEAD_LETTERED
    assert await _staged(database) == []
    assert _escalations("referrals", "loop_guard") == guarded + 1
