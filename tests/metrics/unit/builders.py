"""Archived events and facts for the rule tests, by hand (the handler tests use real contract events)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from services.metrics.domain.events import ArchivedEvent
from services.metrics.domain.kinds import EventType
from shared.contracts.envelope import Envelope

PCN, PRACTICE = "U00123", "Y01234"


def archived_event(
    event_type: EventType, data: dict[str, Any], at: datetime, *, practice: str = PRACTICE
) -> ArchivedEvent:
    return ArchivedEvent(uuid.uuid4(), event_type.value, at, uuid.uuid4(), PCN, practice, data)


def iso(at: datetime) -> str:
    return at.isoformat()


def altered_body(event: Envelope[Any], **changes: Any) -> bytes:
    """`event` as a hostile producer could send it: fields changed after validation (`data__x` = data.x)."""
    body = event.model_dump(mode="json")
    for path, value in changes.items():
        target = body
        *parents, last = path.split("__")
        for part in parents:
            target = target[part]
        target[last] = value
    return json.dumps(body).encode()
