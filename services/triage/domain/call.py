"""The call aggregate: a request for help on the worklist, the MHP's decisions on it, its escalation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from services.triage.domain.deadlines import CallbackPolicy, deadline_breached
from services.triage.domain.intake import Priority, check_identity, worklist_priority
from services.triage.domain.mhts import (
    ContactOutcome,
    DecisionInput,
    Outcome,
    RiskFormulation,
    triage_outcome,
)
from services.triage.domain.out_of_hours import OutOfHoursPolicy
from services.triage.domain.red_flags import RedFlagVocabulary
from shared.contracts.codes import (
    CallerUrgency,
    Channel,
    Destination,
    Disposition,
    EscalationTarget,
    Modality,
    OutOfScopeReason,
    TriageCode,
)
from shared.errors import RuleViolation

MAX_DECISIONS = 10_000
"""The contract's bound on `decision_sequence`; a call re-triaged this often is a fault, not care."""


class CallStatus(StrEnum):
    AWAITING_TRIAGE = "awaiting_triage"
    TRIAGED = "triaged"


class CallNotFound(RuleViolation):
    def __init__(self, call_id: uuid.UUID) -> None:
        super().__init__(f"no call {call_id} has been received by triage; check the call_id on the worklist")
        self.call_id = call_id


class ConcurrentDecision(RuleViolation):
    """Two decisions on one call at once: only the first to commit counts."""

    def __init__(self) -> None:
        super().__init__(
            "decision: another decision on this call was recorded meanwhile; reload the call and decide again"
        )


class CallIdReused(RuleViolation):
    """A practice system sent another patient under a call id already on the worklist."""

    def __init__(self) -> None:
        super().__init__(
            "data.call_id: already used for a different patient; the practice system must send "
            "a new request with a new call_id"
        )


@dataclass
class Decision:
    """One MHP decision on a call. Every decision is kept: a re-triage supersedes, never deletes."""

    decision_id: uuid.UUID
    call_id: uuid.UUID
    event_id: uuid.UUID
    triage_code: TriageCode
    disposition: Disposition
    respond_by: datetime | None
    modality: Modality | None
    appointment_minutes: int | None
    out_of_scope_reason: OutOfScopeReason | None
    destination: Destination | None
    contact_outcome: ContactOutcome | None
    complex_needs: bool
    clinician: str
    decided_at: datetime
    risk: RiskFormulation | None = None
    supersedes: uuid.UUID | None = None
    superseded_by: uuid.UUID | None = None
    escalation_event_id: uuid.UUID | None = None
    # 1 for the call's first decision, one more per re-triage: consumers apply only the highest they saw.
    decision_sequence: int = 1


# What makes two decisions on a call the same clinical decision: everything that reaches the patient's
# care (the code, what follows from it, the appointment's length and modality, where they are sent) and
# the risk formulation. Not who decided or when: the same request re-sent after a lost response is a
# retry, and a second clinician agreeing with the current decision is not a re-triage. Either would
# otherwise supersede it, and booking would cancel the patient's appointment and book another.
# respond_by is derived from the time of decision, so a repeat keeps the first (earlier) deadline.
CLINICAL_FIELDS = (
    "triage_code",
    "disposition",
    "modality",
    "appointment_minutes",
    "complex_needs",
    "out_of_scope_reason",
    "destination",
    "contact_outcome",
    "risk",
)


def same_clinical_decision(a: Decision, b: Decision) -> bool:
    return all(getattr(a, name) == getattr(b, name) for name in CLINICAL_FIELDS)


@dataclass(frozen=True)
class Decided:
    """What recording a decision did: the call's decision now, and the one it superseded if any.

    `repeated`: the decision was the same clinical decision as the current one, which stays current;
    nothing changed and nothing is to be published.
    """

    decision: Decision
    outcome: Outcome
    superseded: Decision | None = None
    repeated: bool = False


@dataclass
class Call:
    call_id: uuid.UUID
    correlation_id: uuid.UUID
    received_event_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    channel: Channel
    caller_urgency: CallerUrgency
    reason: str
    nhs_number: str
    date_of_birth: date
    received_at: datetime
    callback_due_at: datetime
    red_flags: bool = False
    priority: Priority = Priority.ROUTINE
    status: CallStatus = CallStatus.AWAITING_TRIAGE
    latest_decision_id: uuid.UUID | None = None
    # The current decision's decision_sequence; 0 before the first decision.
    decision_sequence: int = 0
    # Set once, together with the duty-GP case.escalated, so it never fires twice.
    escalated_at: datetime | None = None
    escalation_event_id: uuid.UUID | None = None
    # Set once, at intake, with the case.escalated to the out-of-hours route for a red-flag call.
    out_of_hours_escalated_at: datetime | None = None
    out_of_hours_escalated_to: EscalationTarget | None = None
    out_of_hours_escalation_event_id: uuid.UUID | None = None

    @classmethod
    def receive(
        cls,
        *,
        call_id: uuid.UUID,
        correlation_id: uuid.UUID,
        received_event_id: uuid.UUID,
        pcn_code: str,
        practice_ods: str,
        channel: Channel,
        caller_urgency: CallerUrgency,
        reason: str,
        nhs_number: str,
        date_of_birth: date,
        received_at: datetime,
        callbacks: CallbackPolicy,
        red_flags: RedFlagVocabulary,
    ) -> Call:
        """A new call on the worklist with its priority and callback deadline (or ImplausibleIdentity)."""
        try:
            check_identity(date_of_birth, received_at)
            callback_due_at = callbacks.callback_due(pcn_code, channel, received_at)
        except OverflowError:
            # The contract bounds instants (2000 to two years ahead); this only guards against a looser one.
            raise RuleViolation("occurred_at: too far from now to count working time from") from None
        flagged = red_flags.matches(reason)
        return cls(
            call_id=call_id,
            correlation_id=correlation_id,
            received_event_id=received_event_id,
            pcn_code=pcn_code,
            practice_ods=practice_ods,
            channel=channel,
            caller_urgency=caller_urgency,
            reason=reason,
            nhs_number=nhs_number,
            date_of_birth=date_of_birth,
            received_at=received_at,
            callback_due_at=callback_due_at,
            red_flags=flagged,
            priority=worklist_priority(flagged, caller_urgency),
        )

    def check_resent(self, nhs_number: str, date_of_birth: date) -> None:
        """The same call sent again under a new event id is one call; another patient under its id is not."""
        if (self.nhs_number, self.date_of_birth) != (nhs_number, date_of_birth):
            raise CallIdReused()

    # --- decisions ---------------------------------------------------------------------------------

    def decide(self, decision: DecisionInput, *, current: Decision | None, decided_at: datetime) -> Decided:
        """Record the MHP's decision; it supersedes `current`, the call's decision until now, unless it
        is the same clinical decision (then `current` stays and the result is `repeated`).

        Raises InvalidDecision (before anything changes) when the decision contradicts itself.
        """
        if (current.decision_id if current else None) != self.latest_decision_id:
            raise RuleViolation("decision: the call's current decision was not given; reload the call")
        sequence = (current.decision_sequence if current else 0) + 1
        outcome = triage_outcome(
            decision, date_of_birth=self.date_of_birth, called_at=self.received_at, decided_at=decided_at
        )
        recorded = Decision(
            decision_id=uuid.uuid4(),
            call_id=self.call_id,
            event_id=uuid.uuid4(),
            triage_code=decision.triage_code,
            disposition=outcome.disposition,
            respond_by=outcome.respond_by,
            modality=outcome.modality,
            appointment_minutes=outcome.appointment_minutes,
            out_of_scope_reason=outcome.out_of_scope_reason,
            destination=outcome.destination,
            contact_outcome=outcome.contact_outcome,
            complex_needs=decision.complex_needs,
            clinician=decision.clinician,
            decided_at=decided_at,
            risk=decision.risk,
            supersedes=current.decision_id if current else None,
            escalation_event_id=uuid.uuid4() if outcome.escalate_to is not None else None,
            decision_sequence=sequence,
        )
        if current is not None and same_clinical_decision(current, recorded):
            note = "the same clinical decision as the call's current one: kept, nothing changed"
            return Decided(current, replace(outcome, notes=(*outcome.notes, note)), repeated=True)
        if sequence > MAX_DECISIONS:
            raise RuleViolation(f"decision: a call takes at most {MAX_DECISIONS} decisions")
        if current is not None:
            current.superseded_by = recorded.decision_id
        self.status = CallStatus.TRIAGED
        self.latest_decision_id = recorded.decision_id
        self.decision_sequence = recorded.decision_sequence
        return Decided(recorded, outcome, superseded=current)

    # --- callback deadline -------------------------------------------------------------------------

    def deadline_breached(self, now: datetime) -> bool:
        return deadline_breached(self.callback_due_at, now)

    def waiting_minutes(self, now: datetime) -> int:
        return max(0, (now - self.received_at) // timedelta(minutes=1))

    def needs_deadline_escalation(self, now: datetime) -> bool:
        """Still untriaged past its callback deadline and not yet escalated to the duty GP."""
        return (
            self.status is CallStatus.AWAITING_TRIAGE
            and self.escalated_at is None
            and self.deadline_breached(now)
        )

    def mark_escalated(self, now: datetime, event_id: uuid.UUID) -> None:
        if not self.needs_deadline_escalation(now):
            raise RuleViolation("call: only an untriaged call past its deadline is escalated, once")
        self.escalated_at = now
        self.escalation_event_id = event_id

    # --- red flags out of hours --------------------------------------------------------------------

    def needs_out_of_hours_escalation(self, policy: OutOfHoursPolicy, now: datetime) -> bool:
        """Red flags in a call that arrived while nobody works the list, not yet sent to the route."""
        return (
            self.red_flags
            and self.status is CallStatus.AWAITING_TRIAGE
            and self.out_of_hours_escalated_at is None
            and policy.out_of_hours(self.received_at, now)
        )

    def mark_out_of_hours_escalated(
        self, policy: OutOfHoursPolicy, now: datetime, event_id: uuid.UUID
    ) -> None:
        if not self.needs_out_of_hours_escalation(policy, now):
            raise RuleViolation("call: only a red-flag call arriving out of hours is escalated at once, once")
        self.out_of_hours_escalated_at = now
        self.out_of_hours_escalated_to = policy.route
        self.out_of_hours_escalation_event_id = event_id
