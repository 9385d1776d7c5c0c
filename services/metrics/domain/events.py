"""An event as the archive keeps it, and which fact each event type is about."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.metrics.domain.kinds import EventType, FactKind
from shared.errors import RuleViolation


class UnknownEventType(RuleViolation):
    """An event type metrics has no fact for (a new contract not yet reviewed here)."""


@dataclass(frozen=True)
class ArchivedEvent:
    """One consumed event as the metrics service keeps it (already redacted to JSON values)."""

    event_id: uuid.UUID
    event_type: str
    occurred_at: datetime
    correlation_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    data: Mapping[str, Any]


ENTITY_OF: dict[EventType, tuple[FactKind, str]] = {
    EventType.CALL_RECEIVED: (FactKind.CALL, "call_id"),
    EventType.CALL_TRIAGED: (FactKind.CALL, "call_id"),
    EventType.APPOINTMENT_WAITLISTED: (FactKind.CALL, "call_id"),
    EventType.CASE_ESCALATED: (FactKind.ESCALATION, "escalation_id"),
    EventType.ESCALATION_ACKNOWLEDGED: (FactKind.ESCALATION, "escalation_id"),
    EventType.ESCALATION_RESOLVED: (FactKind.ESCALATION, "escalation_id"),
    EventType.SESSION_SCHEDULED: (FactKind.SESSION, "session_id"),
    EventType.SESSION_CANCELLED: (FactKind.SESSION, "session_id"),
    EventType.APPOINTMENT_BOOKED: (FactKind.APPOINTMENT, "appointment_id"),
    EventType.APPOINTMENT_CANCELLED: (FactKind.APPOINTMENT, "appointment_id"),
    EventType.APPOINTMENT_ATTENDED: (FactKind.APPOINTMENT, "appointment_id"),
    EventType.APPOINTMENT_DNA: (FactKind.APPOINTMENT, "appointment_id"),
    EventType.DNA_FOLLOWED_UP: (FactKind.APPOINTMENT, "appointment_id"),
    EventType.REFERRAL_MADE: (FactKind.REFERRAL, "referral_id"),
    EventType.REFERRAL_ACCEPTED: (FactKind.REFERRAL, "referral_id"),
    EventType.REFERRAL_DECLINED: (FactKind.REFERRAL, "referral_id"),
    EventType.REFERRAL_COMPLETED: (FactKind.REFERRAL, "referral_id"),
    EventType.REFERRAL_WITHDRAWN: (FactKind.REFERRAL, "referral_id"),
    EventType.SIGNPOST_RECORDED: (FactKind.SIGNPOST, "signpost_id"),
}
"""Every event touches exactly one fact: (kind, the payload field holding its key)."""


def event_type_of(value: str) -> EventType:
    try:
        return EventType(value)
    except ValueError:
        raise UnknownEventType("event_type: metrics keeps no fact for this event type") from None


def entity_key(event: ArchivedEvent) -> tuple[FactKind, uuid.UUID]:
    kind, key_field = ENTITY_OF[event_type_of(event.event_type)]
    key = event.data[key_field]
    return kind, key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))
