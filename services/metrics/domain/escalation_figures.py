"""Escalations as owned work, per scope: which are open and overdue now, and how fast owners acknowledge.

An escalation is one fact however far up its ladder it climbed (`folding._escalated`), so a re-escalation
is never counted as a second escalation.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from services.metrics.domain.facts import EscalationFact
from services.metrics.domain.figures import in_month, median, minutes_between


def is_overdue(escalation: EscalationFact, as_of: datetime) -> bool:
    """Open, unacknowledged and past its acknowledgement deadline (exactly at the deadline it is not yet)."""
    return (
        escalation.resolved_at is None
        and escalation.acknowledged_at is None
        and escalation.acknowledge_by is not None
        and as_of > escalation.acknowledge_by
    )


def open_escalations(escalations: Iterable[EscalationFact], as_of: datetime) -> dict[str, Any]:
    """The escalations not yet resolved, as of `as_of`, whenever they were raised."""
    still_open = [e for e in escalations if e.resolved_at is None]
    return {
        "open": len(still_open),
        "unacknowledged": sum(1 for e in still_open if e.acknowledged_at is None),
        "overdue": sum(1 for e in still_open if is_overdue(e, as_of)),
        "climbed": sum(1 for e in still_open if e.rung > 0),
        "highest_rung": max((e.rung for e in still_open), default=None),
    }


def acknowledgement(escalations: Iterable[EscalationFact], month: str) -> dict[str, Any]:
    """Of the escalations raised in the month: how many were acknowledged and resolved, and the median
    minutes from raising to the first acknowledgement (the unacknowledged are counted beside it)."""
    raised = [e for e in escalations if in_month(month, e.occurred_at)]
    acknowledged = [e for e in raised if e.acknowledged_at is not None]
    return {
        "raised": len(raised),
        "acknowledged": len(acknowledged),
        "unacknowledged": len(raised) - len(acknowledged),
        "resolved": sum(1 for e in raised if e.resolved_at is not None),
        "median_minutes_to_acknowledge": median(
            [
                minutes_between(e.occurred_at, e.acknowledged_at)
                for e in acknowledged
                if e.occurred_at is not None and e.acknowledged_at is not None
            ]
        ),
    }
