"""What happens when a consumer dead-letters a delivery: it is counted, and a clinical one is escalated.

Every dead letter increments `mhp_dead_letters_total` (alerted on in deploy/prometheus/alerts.yaml). When
the consuming service may publish `case.escalated` (triage, booking, referrals) and the message is a
catalogue event whose envelope routing fields can be read and agree with its broker-vouched routing key,
the service stages, in a transaction of its own, a `case.escalated` to the platform operator (reason
dead_letter) carrying only ids: referrals, the escalation owner, puts it in the operator's inbox.
Nothing here raises into the consumer: a failure to escalate is logged and counted, never retried.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter

from shared.contracts.codes import EscalationReason, EscalationTarget
from shared.contracts.registry import MAX_BODY_BYTES, MAX_NESTING, REGISTRY, nesting_depth
from shared.contracts.routing import parse_routing_key
from shared.contracts.v1 import CaseEscalated, CaseEscalatedData
from shared.db import Database, utcnow
from shared.logging import get_logger
from shared.messaging import inbox
from shared.messaging.failures import DeadLetterKind
from shared.messaging.outbox import add_event
from shared.messaging.senders import PUBLISHED_BY, SenderCheck

log = get_logger(__name__)

DEAD_LETTERS = Counter(
    "mhp_dead_letters_total",
    "Deliveries a consumer dead-lettered, by service, queue, catalogue event type (or unknown) and kind",
    ["service", "queue", "event_type", "reason"],
)
DEAD_LETTER_ESCALATIONS = Counter(
    "mhp_dead_letter_escalations_total",
    "Platform-operator escalations for dead letters, by outcome (staged, duplicate, not_clinical, "
    "not_permitted, loop_guard, failed)",
    ["service", "outcome"],
)

REASON_HEADER = "x-mhp-dead-letter-reason"
KIND_HEADER = "x-mhp-dead-letter-kind"
BODY_HASH_HEADER = "x-mhp-body-sha256"
ORIGINAL_USER_HEADER = "x-mhp-original-user-id"
"""The broker-validated AMQP user_id of the original sender: `mhp dlq replay` publishes as it again."""

EVENT_TYPES = frozenset(event_type for event_type, _ in REGISTRY)
_ESCALATING_SERVICES = PUBLISHED_BY["case.escalated"]
_NAMESPACE = uuid.UUID("5b0f7a52-3c1e-4f0a-9d51-6a4c1f3e2b10")
_PCN = re.compile(r"^U\d{5}$")
_PRACTICE = re.compile(r"^[A-Z]\d{5}$")
_CASE_IDS = ("call_id", "appointment_id", "referral_id")


def dead_letter_headers(
    *, queue: str, routing_key: str, reason: str, kind: DeadLetterKind, body: bytes, user_id: str | None
) -> dict[str, Any]:
    """Only our own headers: the sender's could carry anything (patient data included)."""
    headers: dict[str, Any] = {
        REASON_HEADER: reason[:1000],
        KIND_HEADER: kind.value,
        "x-mhp-queue": queue,
        "x-mhp-routing-key": routing_key[:255],
        "x-mhp-dead-lettered-at": utcnow().isoformat(),
        BODY_HASH_HEADER: hashlib.sha256(body).hexdigest(),
    }
    if user_id:
        headers[ORIGINAL_USER_HEADER] = user_id[:255]
    return headers


@dataclass(frozen=True)
class RoutingFields:
    """What a dead-lettered body says of where it belongs, checked against its routing key."""

    event_type: str
    event_id: uuid.UUID | None
    correlation_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    case_ids: dict[str, uuid.UUID]
    escalation_reason: str | None


def read_json(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, leniently (no contract), within the contract parser's bounds."""
    if len(body) > MAX_BODY_BYTES or nesting_depth(body) > MAX_NESTING:
        return None
    try:
        raw = json.loads(body)
    except Exception:
        return None
    return raw if isinstance(raw, dict) else None


def event_type_label(raw: dict[str, Any] | None) -> str:
    """A catalogue event type, or "unknown": never the sender's own text as a metric label."""
    value = raw.get("event_type") if raw else None
    return value if isinstance(value, str) and value in EVENT_TYPES else "unknown"


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def routing_fields(raw: dict[str, Any] | None, routing_key: str) -> RoutingFields | None:
    """The envelope's routing fields when they are well-formed and equal the routing key's, else None.

    The broker's topic permission vouched for the routing key: only then may an escalation go to that PCN.
    """
    if raw is None or event_type_label(raw) == "unknown":
        return None
    correlation_id = _uuid(raw.get("correlation_id"))
    pcn, practice = raw.get("pcn_code"), raw.get("practice_ods")
    if correlation_id is None or not isinstance(pcn, str) or not isinstance(practice, str):
        return None
    if not _PCN.fullmatch(pcn) or not _PRACTICE.fullmatch(practice):
        return None
    try:
        key_type, major, key_pcn, key_practice = parse_routing_key(routing_key)
    except ValueError:
        return None
    version = str(raw.get("schema_version", "1.0")).split(".")[0]
    if (key_type, str(major), key_pcn, key_practice) != (raw["event_type"], version, pcn, practice):
        return None
    found_data = raw.get("data")
    data: dict[str, Any] = found_data if isinstance(found_data, dict) else {}
    case_ids = {name: found for name in _CASE_IDS if (found := _uuid(data.get(name))) is not None}
    reason = data.get("reason") if isinstance(data.get("reason"), str) else None
    return RoutingFields(
        raw["event_type"], _uuid(raw.get("event_id")), correlation_id, pcn, practice, case_ids, reason
    )


class DeadLetterAlarm:
    """Counts a consumer's dead letters and escalates the clinical ones to the platform operator."""

    def __init__(self, db: Database, senders: SenderCheck, *, timeout: float = 10.0) -> None:
        self._db = db
        self._senders = senders
        self._timeout = timeout

    async def dead_lettered(self, queue: str, body: bytes, routing_key: str, kind: DeadLetterKind) -> None:
        service = queue.split(".", 1)[0]
        raw = read_json(body)
        DEAD_LETTERS.labels(service, queue, event_type_label(raw), kind.value).inc()
        try:
            outcome = await self._escalate(service, queue, body, raw, routing_key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the message is already in its DLQ: never fail the consumer for this
            log.error("dead_letter_escalation_failed", error=type(exc).__name__)
            outcome = "failed"
        DEAD_LETTER_ESCALATIONS.labels(service, outcome).inc()

    async def _escalate(
        self, service: str, queue: str, body: bytes, raw: dict[str, Any] | None, routing_key: str
    ) -> str:
        if service not in _ESCALATING_SERVICES:
            return "not_permitted"  # metrics may not publish case.escalated: the counter alerts alone
        fields = routing_fields(raw, routing_key)
        if fields is None:
            return "not_clinical"  # no PCN to route by: the counter and its alert are the signal
        if fields.event_type == CaseEscalated.EVENT_TYPE and fields.escalation_reason == "dead_letter":
            return "loop_guard"  # a dead-letter escalation that cannot be applied must not beget another
        event = self._escalation(service, queue, body, fields)
        async with asyncio.timeout(self._timeout), self._db.transaction() as session:
            # One escalation per queue and bad body, however often that body is dead-lettered there.
            if not await inbox.claim(session, f"{queue}:dead-letter-alarm", event.event_id):
                return "duplicate"
            add_event(session, event)
        log.warning("dead_letter_escalated", escalation_id=str(event.data.escalation_id))
        return "staged"

    def _escalation(self, service: str, queue: str, body: bytes, fields: RoutingFields) -> CaseEscalated:
        key = f"{queue}:{hashlib.sha256(body).hexdigest()}"
        data = CaseEscalatedData(
            escalation_id=uuid.uuid5(_NAMESPACE, f"escalation:{key}"),
            target=EscalationTarget.PLATFORM_OPERATOR,
            reason=EscalationReason.DEAD_LETTER,
            **fields.case_ids,
        )
        # The service publishes as itself, as the consumers' sender check expects (senders.py).
        org = fields.pcn_code if service == "booking" else self._senders.trust_code
        return CaseEscalated.create(
            data,
            producer=f"{org}/{service}",
            pcn_code=fields.pcn_code,
            practice_ods=fields.practice_ods,
            correlation_id=fields.correlation_id,
            causation_id=fields.event_id,
            event_id=uuid.uuid5(_NAMESPACE, f"event:{key}"),
        )
