"""What a triage decision or an attendance asks of referrals, and which decision on a call is newest.

The relay publishes concurrently and redeliveries requeue, so a re-triage can overtake the decision it
replaces: referrals applies a call's decisions in their `decision_sequence` order (a producer that sends
none is ordered by when the decision was made), never in their arrival order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.contracts.codes import (
    Destination,
    Disposition,
    NextStep,
    OutOfScopeReason,
    SignpostOutcome,
    TriageCode,
)
from shared.contracts.decision_order import Ordering, effective_sequence
from shared.errors import NotYet


@dataclass(frozen=True)
class MakeReferral:
    destination: Destination


@dataclass(frozen=True)
class RecordSignpost:
    destination: Destination
    outcome: SignpostOutcome
    out_of_scope_reason: OutOfScopeReason | None = None


Action = MakeReferral | RecordSignpost


def triage_action(
    disposition: Disposition,
    destination: Destination | None,
    out_of_scope_reason: OutOfScopeReason | None,
    *,
    default_referral: Destination,
    advice_destination: Destination,
) -> Action | None:
    """What a call.triaged disposition asks of this service (None: appointments and escalation are not ours).

    A re-triage is reconciled by the handler: what an earlier decision referred and this one does not ask
    for is withdrawn (`keeps_referral`); a recorded signpost is a past fact and stays.
    """
    if disposition is Disposition.REFER:
        return MakeReferral(destination or default_referral)
    if disposition is Disposition.SIGNPOST:
        target = destination or Destination.TALKING_THERAPIES
        outcome = (
            SignpostOutcome.SELF_REFERRAL_ADVISED
            if target is Destination.TALKING_THERAPIES
            else SignpostOutcome.INFORMATION_GIVEN
        )
        return RecordSignpost(target, outcome)
    if disposition is Disposition.ADVICE:
        return RecordSignpost(destination or advice_destination, SignpostOutcome.INFORMATION_GIVEN)
    if disposition is Disposition.OUT_OF_SCOPE:
        return RecordSignpost(
            destination or out_of_scope_destination(out_of_scope_reason),
            SignpostOutcome.REDIRECTED,
            out_of_scope_reason,
        )
    return None


def out_of_scope_destination(reason: OutOfScopeReason | None) -> Destination:
    return {
        OutOfScopeReason.UNDER_18: Destination.CHILDREN_AND_YOUNG_PEOPLE,
        OutOfScopeReason.OVER_65: Destination.OLDER_ADULTS,
        OutOfScopeReason.LOW_LEVEL_NEED: Destination.TALKING_THERAPIES,
        OutOfScopeReason.CRISIS: Destination.CRISIS_TEAM,
    }.get(reason or OutOfScopeReason.LOW_LEVEL_NEED, Destination.TALKING_THERAPIES)


def attendance_action(
    next_step: NextStep, destination: Destination | None, *, default_referral: Destination
) -> MakeReferral | None:
    if next_step is NextStep.REFERRAL:
        return MakeReferral(destination or default_referral)
    return None


def keeps_referral(action: Action | None, destination: Destination) -> bool:
    """An open referral an earlier decision on the call made stays only if the newest one refers there too."""
    return isinstance(action, MakeReferral) and action.destination is destination


@dataclass(frozen=True)
class TriageDecision:
    """One call.triaged as referrals orders it."""

    event_id: uuid.UUID
    call_id: uuid.UUID
    correlation_id: uuid.UUID
    sequence: int | None
    """The effective sequence: the event's, or 1 for a decision that supersedes nothing."""
    decided_at: datetime
    triage_code: TriageCode | None
    disposition: Disposition

    @classmethod
    def of(
        cls,
        *,
        event_id: uuid.UUID,
        call_id: uuid.UUID,
        correlation_id: uuid.UUID,
        decision_sequence: int | None,
        supersedes: uuid.UUID | None,
        decided_at: datetime,
        triage_code: TriageCode | None,
        disposition: Disposition,
    ) -> TriageDecision:
        sequence = effective_sequence(decision_sequence, supersedes)
        return cls(event_id, call_id, correlation_id, sequence, decided_at, triage_code, disposition)


@dataclass(frozen=True)
class IgnoredDecision:
    """What an auditor sees of a decision referrals did not apply: which, why, and what stood instead.

    Only ids, sequences, codes and instants: nothing that identifies the patient.
    """

    decision: TriageDecision
    ordering: Ordering
    applied: TriageDecision
    ignored_at: datetime


class DecisionRaced(NotYet):
    """Another decision for the call was applied between reading and storing: retried, then ordered again."""
