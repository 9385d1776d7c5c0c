"""What the aggregates report happened; the application publishes each as its contract event.

Each carries the id its published event will have, so an aggregate can remember which event it sent
(e.g. `chase_event_id`) before anything is published.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from shared.contracts.codes import (
    Destination,
    DnaFollowUpOutcome,
    EscalationReason,
    EscalationTarget,
    OutOfScopeReason,
    ReferralDeclineReason,
    ReferralWithdrawnReason,
    SignpostOutcome,
)


def _new_id() -> uuid.UUID:
    return uuid.uuid4()


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    event_id: uuid.UUID = field(default_factory=_new_id)


@dataclass(frozen=True, kw_only=True)
class ReferralSent(DomainEvent):
    referral_id: uuid.UUID
    destination: Destination
    service_code: str
    call_id: uuid.UUID | None
    appointment_id: uuid.UUID | None
    previous_referral_id: uuid.UUID | None


@dataclass(frozen=True, kw_only=True)
class ReferralAccepted(DomainEvent):
    referral_id: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class ReferralCompleted(DomainEvent):
    referral_id: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class ReferralDeclined(DomainEvent):
    referral_id: uuid.UUID
    reason: str
    reason_code: ReferralDeclineReason | None


@dataclass(frozen=True, kw_only=True)
class ReferralWithdrawn(DomainEvent):
    referral_id: uuid.UUID
    reason: ReferralWithdrawnReason
    call_id: uuid.UUID | None


@dataclass(frozen=True, kw_only=True)
class Escalated(DomainEvent):
    target: EscalationTarget
    reason: EscalationReason
    referral_id: uuid.UUID | None = None
    appointment_id: uuid.UUID | None = None
    due_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class SignpostGiven(DomainEvent):
    signpost_id: uuid.UUID
    destination: Destination
    outcome: SignpostOutcome
    call_id: uuid.UUID | None
    out_of_scope_reason: OutOfScopeReason | None


@dataclass(frozen=True, kw_only=True)
class DnaFollowedUp(DomainEvent):
    appointment_id: uuid.UUID
    outcome: DnaFollowUpOutcome
