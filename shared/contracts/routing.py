"""Routing keys: `<event_type>.v<major>.<pcn_code>.<practice_ods>`, so topic permissions can confine a PCN."""

from __future__ import annotations

EXCHANGE = "mhp.events"
DEAD_LETTER_EXCHANGE = "mhp.dead-letter"


def routing_key(event_type: str, major: int, pcn_code: str, practice_ods: str) -> str:
    return f"{event_type}.v{major}.{pcn_code}.{practice_ods}"


def binding_key(event_type: str, major: int = 1, pcn_code: str = "*", practice_ods: str = "*") -> str:
    """A binding pattern for one event type and version, optionally narrowed to a PCN or practice."""
    return f"{event_type}.v{major}.{pcn_code}.{practice_ods}"


def parse_routing_key(key: str) -> tuple[str, int, str, str]:
    """Split a routing key into (event_type, major, pcn_code, practice_ods)."""
    head, pcn_code, practice_ods = key.rsplit(".", 2)
    event_type, version = head.rsplit(".", 1)
    if not version.startswith("v") or not version[1:].isdigit():
        raise ValueError("routing key has no version segment")
    return event_type, int(version[1:]), pcn_code, practice_ods
