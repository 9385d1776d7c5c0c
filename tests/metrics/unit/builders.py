"""Archived events and facts for the rule tests, by hand (the handler tests use real contract events)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.metrics.domain.events import ArchivedEvent
from services.metrics.domain.kinds import EventType

PCN, PRACTICE = "U00123", "Y01234"


def archived_event(
    event_type: EventType, data: dict[str, Any], at: datetime, *, practice: str = PRACTICE
) -> ArchivedEvent:
    return ArchivedEvent(uuid.uuid4(), event_type.value, at, uuid.uuid4(), PCN, practice, data)


def iso(at: datetime) -> str:
    return at.isoformat()
