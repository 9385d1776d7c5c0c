"""What the live dashboard shows of an event: escalations and deadline breaches, codes only."""

from __future__ import annotations

from typing import Any

from services.metrics.domain.events import ArchivedEvent
from services.metrics.domain.facts import EscalationFact
from services.metrics.domain.folding import instant
from services.metrics.domain.kinds import AlertKind, EventType
from shared.contracts.codes import EscalationReason

DEADLINE_REASONS = frozenset(
    {EscalationReason.TRIAGE_DEADLINE_BREACH, EscalationReason.APPOINTMENT_DEADLINE_AT_RISK}
)
"""Escalations that are about a missed or missing deadline: shown as deadline breaches."""

FeedItem = dict[str, Any]


def escalation_kind(reason: str) -> AlertKind:
    return AlertKind.DEADLINE_BREACH if reason in DEADLINE_REASONS else AlertKind.ESCALATION


def feed_item(event: ArchivedEvent) -> FeedItem | None:
    """What the live feed shows for this event, if anything (codes only: no patient data)."""
    d = event.data
    base: FeedItem = {
        "event_id": str(event.event_id),
        "event_type": event.event_type,
        "pcn_code": event.pcn_code,
        "practice_ods": event.practice_ods,
        "occurred_at": event.occurred_at.isoformat(),
    }
    if event.event_type == EventType.CASE_ESCALATED:
        reason = str(d["reason"])
        return {**base, "kind": escalation_kind(reason).value, "reason": reason, "target": str(d["target"])}
    if event.event_type == EventType.APPOINTMENT_WAITLISTED:
        return {
            **base,
            "kind": AlertKind.DEADLINE_AT_RISK.value,
            "reason": "no_slot_inside_deadline",
            "target": None,
        }
    if event.event_type == EventType.APPOINTMENT_BOOKED and d.get("respond_by"):
        starts_at, respond_by = instant(d["starts_at"]), instant(d["respond_by"])
        if starts_at is not None and respond_by is not None and starts_at > respond_by:
            return {
                **base,
                "kind": AlertKind.DEADLINE_BREACH.value,
                "reason": "booked_after_deadline",
                "target": None,
            }
    return None


def alert_from_escalation(fact: EscalationFact) -> FeedItem:
    """A stored escalation as a freshly opened page lists it (the feed adds new ones)."""
    return {
        "kind": escalation_kind(fact.reason).value,
        "event_type": EventType.CASE_ESCALATED.value,
        "pcn_code": fact.pcn_code,
        "practice_ods": fact.practice_ods,
        "occurred_at": fact.occurred_at.isoformat(),
        "reason": fact.reason,
        "target": fact.target,
    }
