"""Which triage decision on a call is the newest: booking applies only that one, whatever the arrival order.

The relay publishes concurrently and redeliveries requeue, so a re-triage can overtake the decision it
replaces. `decision_sequence` orders them (1 for the first decision, one more per re-triage); a producer
that sends none is ordered by when the decision was made.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.contracts.codes import TriageCode

FIRST_DECISION = 1


class Ordering(StrEnum):
    NEWER = "newer"
    """Newer than the decision applied (or the first seen): apply it."""
    REPEAT = "repeat"
    """The decision applied, sent again under another event id: nothing to do."""
    OLDER = "older"
    """Overtaken by a newer decision already applied: ignored, and recorded as ignored."""


@dataclass(frozen=True)
class TriageDecision:
    """One call.triaged as booking orders it."""

    event_id: uuid.UUID
    call_id: uuid.UUID
    sequence: int | None
    """The effective sequence: the event's, or 1 for a decision that supersedes nothing."""
    decided_at: datetime
    triage_code: TriageCode | None

    @classmethod
    def of(
        cls,
        *,
        event_id: uuid.UUID,
        call_id: uuid.UUID,
        decision_sequence: int | None,
        supersedes: uuid.UUID | None,
        decided_at: datetime,
        triage_code: TriageCode | None,
    ) -> TriageDecision:
        # A decision replacing nothing is the call's first, whichever producer sent it.
        sequence = decision_sequence or (FIRST_DECISION if supersedes is None else None)
        return cls(event_id, call_id, sequence, decided_at, triage_code)


def order_against(candidate: TriageDecision, applied: TriageDecision | None) -> Ordering:
    """Where `candidate` stands against the decision already applied for its call."""
    if applied is None:
        return Ordering.NEWER
    if candidate.event_id == applied.event_id:
        return Ordering.REPEAT
    if candidate.sequence is not None and applied.sequence is not None:
        newer, same = candidate.sequence > applied.sequence, candidate.sequence == applied.sequence
    else:  # a producer without sequences: the decision made later is the newer one
        newer, same = candidate.decided_at > applied.decided_at, candidate.decided_at == applied.decided_at
    if newer:
        return Ordering.NEWER
    return Ordering.REPEAT if same else Ordering.OLDER


@dataclass(frozen=True)
class IgnoredDecision:
    """What an auditor sees of a decision booking did not apply, and why (no patient data)."""

    decision: TriageDecision
    ordering: Ordering
    applied: TriageDecision
    ignored_at: datetime
