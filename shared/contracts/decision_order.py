"""Which triage decision on a call is the newest: every consumer of `call.triaged` applies only that one,
whatever the arrival order.

The relay publishes concurrently and redeliveries requeue, so a re-triage can overtake the decision it
replaces. `decision_sequence` orders them (1 for the first decision, one more per re-triage); a producer
that sends none is ordered by when the decision was made. One rule beside the contract, so booking and
referrals cannot drift apart on it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Protocol

FIRST_DECISION = 1


class Ordering(StrEnum):
    NEWER = "newer"
    """Newer than the decision applied (or the first seen): apply it."""
    REPEAT = "repeat"
    """The decision applied, sent again under another event id: nothing to do."""
    OLDER = "older"
    """Overtaken by a newer decision already applied: ignored, and recorded as ignored."""


class OrderedDecision(Protocol):
    @property
    def event_id(self) -> uuid.UUID: ...

    @property
    def sequence(self) -> int | None: ...

    @property
    def decided_at(self) -> datetime: ...


def effective_sequence(decision_sequence: int | None, supersedes: uuid.UUID | None) -> int | None:
    """The event's sequence; a decision replacing nothing is the call's first, whichever producer sent it."""
    return decision_sequence or (FIRST_DECISION if supersedes is None else None)


def order_against(candidate: OrderedDecision, applied: OrderedDecision | None) -> Ordering:
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
