"""What the live dashboard shows of an event: escalations, deadlines at risk and breached, codes only.

A deadline is "breached" only once it has passed at the event's instant; before then it is "at risk".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.metrics.domain.events import ArchivedEvent
from services.metrics.domain.facts import EscalationFact
from services.metrics.domain.folding import instant
from services.metrics.domain.kinds import AlertKind, EventType
from shared.contracts.codes import EscalationReason

BREACH_REASONS = frozenset(
    {EscalationReason.TRIAGE_DEADLINE_BREACH, EscalationReason.APPOINTMENT_DEADLINE_BREACH}
)
"""Raised when a deadline has passed (the untriaged call's callback, the unbooked case's response)."""

AT_RISK_REASONS = frozenset(
    {EscalationReason.APPOINTMENT_DEADLINE_AT_RISK, EscalationReason.APPOINTMENT_CANCELLED}
)
"""Raised while a deadline may still be met (waitlisted; a cancelled appointment not rebooked inside it):
at risk until the escalation's `due_at` has passed."""

FeedItem = dict[str, Any]


def deadline_kind(deadline: datetime | None, at: datetime) -> AlertKind:
    """Breached once `at` is past the deadline; at risk up to and at it (or when it is not known)."""
    return AlertKind.DEADLINE_BREACH if deadline is not None and at > deadline else AlertKind.DEADLINE_AT_RISK


def escalation_kind(
    reason: str | None, due_at: datetime | None = None, at: datetime | None = None
) -> AlertKind:
    if reason in BREACH_REASONS:
        return AlertKind.DEADLINE_BREACH
    if reason in AT_RISK_REASONS:
        return deadline_kind(due_at, at) if at is not None else AlertKind.DEADLINE_AT_RISK
    return AlertKind.ESCALATION


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
        kind = escalation_kind(reason, instant(d.get("due_at")), event.occurred_at)
        return {
            **base,
            "kind": kind.value,
            "reason": reason,
            "target": str(d["target"]),
            "rung": int(d.get("rung") or 0),
        }
    if event.event_type == EventType.APPOINTMENT_WAITLISTED:
        return {
            **base,
            "kind": deadline_kind(instant(d.get("respond_by")), event.occurred_at).value,
            "reason": "no_slot_inside_deadline",
            "target": None,
            "rung": None,
        }
    if event.event_type == EventType.APPOINTMENT_BOOKED and d.get("respond_by"):
        starts_at, respond_by = instant(d["starts_at"]), instant(d["respond_by"])
        if starts_at is not None and respond_by is not None and starts_at > respond_by:
            return {
                **base,
                # Booked after its deadline: certain to be late, but a breach only once the deadline passed.
                "kind": deadline_kind(respond_by, event.occurred_at).value,
                "reason": "booked_after_deadline",
                "target": None,
                "rung": None,
            }
    return None


def alert_from_escalation(fact: EscalationFact) -> FeedItem | None:
    """A stored escalation as a freshly opened page lists it (the feed adds new ones); None until raised."""
    if fact.occurred_at is None or fact.reason is None:
        return None
    return {
        "kind": escalation_kind(fact.reason, fact.due_at, fact.occurred_at).value,
        "event_type": EventType.CASE_ESCALATED.value,
        "pcn_code": fact.pcn_code,
        "practice_ods": fact.practice_ods,
        "occurred_at": fact.occurred_at.isoformat(),
        "reason": fact.reason,
        "target": fact.target,
        "rung": fact.rung,
    }
