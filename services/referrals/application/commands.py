"""Referrals' commands: what a consumed event, a person through the API or the watchdog asks it to do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.referrals.application.escalation_access import Actor
from services.referrals.domain.episode import Episode
from services.referrals.domain.escalation import Raised
from shared.contracts.codes import (
    AttendanceStatus,
    Destination,
    Disposition,
    DnaFollowUpOutcome,
    EscalationOutcome,
    NextStep,
    OutOfScopeReason,
    ReferralDeclineReason,
    TriageCode,
)


@dataclass(frozen=True)
class Cause:
    """The consumed event a command comes from: what it caused names it (causation) and its episode."""

    event_id: uuid.UUID
    episode: Episode
    answered_by: str | None = None
    """For a receiving service's answer: its organisation, which the broker proved (the producer's)."""


@dataclass(frozen=True)
class ActOnTriageDecision:
    """call.triaged: refer or signpost as the disposition asks (appointments and escalation are not ours).

    Only the call's newest decision is applied (by `decision_sequence`, else `decided_at`); the triage code
    is kept for the episode, so that a missed appointment is followed up by the case's risk.
    """

    call_id: uuid.UUID
    disposition: Disposition
    destination: Destination | None
    out_of_scope_reason: OutOfScopeReason | None
    cause: Cause
    triage_code: TriageCode | None = None
    decision_sequence: int | None = None
    supersedes: uuid.UUID | None = None
    decided_at: datetime | None = None
    """When the MHP decided (the event's occurred_at); None: when this service heard of it."""


@dataclass(frozen=True)
class ActOnAttendance:
    """appointment.attended: refer when the clinician's next step is a referral."""

    appointment_id: uuid.UUID
    next_step: NextStep
    destination: Destination | None
    cause: Cause


@dataclass(frozen=True)
class AcceptReferral:
    referral_id: uuid.UUID
    cause: Cause | None = None
    """The receiving service's own event; None when a person responds through this service's API."""


@dataclass(frozen=True)
class CompleteReferral:
    referral_id: uuid.UUID
    cause: Cause | None = None


@dataclass(frozen=True)
class DeclineReferral:
    referral_id: uuid.UUID
    reason_code: ReferralDeclineReason | None
    """Required through the API; a 1.0 receiving service's event may carry free text only."""
    reason: str | None = None
    """Free text beside the code, already checked to hold no patient identifier."""
    cause: Cause | None = None


@dataclass(frozen=True)
class RedirectReferral:
    """The clinical lead sends an unplaced referral to another kind of service."""

    referral_id: uuid.UUID
    destination: Destination
    clinician: str


@dataclass(frozen=True)
class OpenDnaFollowUp:
    """appointment.dna, or appointment.cancelled by the patient (attendance cancelled_by_patient): contact the
    patient by a deadline set by the case's risk; a repeated DNA tells the GP."""

    appointment_id: uuid.UUID
    attendance: AttendanceStatus
    missed_at: datetime
    cause: Cause


@dataclass(frozen=True)
class RecordFollowUpOutcome:
    follow_up_id: uuid.UUID
    outcome: DnaFollowUpOutcome
    clinician: str
    signposted_to: Destination | None = None


@dataclass(frozen=True)
class ChaseUnansweredReferrals:
    limit: int = 100


@dataclass(frozen=True)
class EscalateOverdueFollowUps:
    limit: int = 100


@dataclass(frozen=True)
class RecordEscalation:
    """case.escalated from any service (this one's own included): held as owned work, once per rung."""

    raised: Raised


@dataclass(frozen=True)
class ClimbUnacknowledgedEscalations:
    limit: int = 100


@dataclass(frozen=True)
class AcknowledgeEscalation:
    escalation_id: uuid.UUID
    actor: Actor


@dataclass(frozen=True)
class ResolveEscalation:
    escalation_id: uuid.UUID
    actor: Actor
    outcome: EscalationOutcome
    note: str | None = None


@dataclass(frozen=True)
class HandOverEscalation:
    escalation_id: uuid.UUID
    actor: Actor
    to: str
    """A staff id the directory names for the escalation's PCN or the trust."""
