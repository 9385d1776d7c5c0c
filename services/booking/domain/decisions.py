"""Which triage decision on a call is the newest: booking applies only that one, whatever the arrival order.

The relay publishes concurrently and redeliveries requeue, so a re-triage can overtake the decision it
replaces. `decision_sequence` orders them (1 for the first decision, one more per re-triage); a producer
that sends none is ordered by when the decision was made.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.contracts.codes import TriageCode
from shared.contracts.decision_order import Ordering, effective_sequence


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
        sequence = effective_sequence(decision_sequence, supersedes)
        return cls(event_id, call_id, sequence, decided_at, triage_code)


@dataclass(frozen=True)
class IgnoredDecision:
    """What an auditor sees of a decision booking did not apply, and why (no patient data)."""

    decision: TriageDecision
    ordering: Ordering
    applied: TriageDecision
    ignored_at: datetime
