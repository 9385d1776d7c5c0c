"""Follow-up of a missed appointment (a DNA, or a cancellation by the patient): contact by a deadline set by
the case's risk (follow_up_urgency.py), the clinical lead told at once for a high-risk case and the GP of
repeated DNAs, and the outcome."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.referrals.domain import events
from services.referrals.domain.deadlines import overdue
from services.referrals.domain.decisions import RecordSignpost
from services.referrals.domain.episode import Episode
from services.referrals.domain.follow_up_urgency import FollowUpPolicy
from services.referrals.domain.lifecycle import InvalidTransition
from services.referrals.domain.signpost import Signpost
from shared.contracts.codes import (
    AttendanceStatus,
    Destination,
    DnaFollowUpOutcome,
    EscalationReason,
    EscalationTarget,
    SignpostOutcome,
    TriageCode,
)
from shared.errors import RuleViolation


class FollowUpStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


REPEATED_DNA_THRESHOLD = 2


def notify_gp_of_repeated_dna(dna_count: int, already_notified: bool) -> bool:
    """Two DNAs in one episode tell the GP, once per episode."""
    return dna_count >= REPEATED_DNA_THRESHOLD and not already_notified


class InvalidOutcome(RuleViolation):
    """A follow-up outcome missing what it needs; `field` names the request field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def check_follow_up_outcome(outcome: DnaFollowUpOutcome, signposted_to: Destination | None) -> None:
    if outcome is DnaFollowUpOutcome.CONTACTED_AND_SIGNPOSTED and signposted_to is None:
        raise InvalidOutcome("signposted_to", "contacted_and_signposted needs the destination signposted to")
    if outcome is not DnaFollowUpOutcome.CONTACTED_AND_SIGNPOSTED and signposted_to is not None:
        raise InvalidOutcome(
            "signposted_to", f"only contacted_and_signposted takes a destination, not {outcome}"
        )


@dataclass(kw_only=True)
class DnaFollowUp:
    follow_up_id: uuid.UUID
    # One follow-up per missed appointment, however often the DNA (or cancellation) is re-sent.
    appointment_id: uuid.UUID
    # The appointment.dna or appointment.cancelled (by the patient) that opened it.
    dna_event_id: uuid.UUID
    correlation_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    attendance: AttendanceStatus
    opened_at: datetime
    due_at: datetime
    status: FollowUpStatus = FollowUpStatus.OPEN
    outcome: DnaFollowUpOutcome | None = None
    outcome_at: datetime | None = None
    recorded_by: str | None = None
    signposted_to: Destination | None = None
    outcome_event_id: uuid.UUID | None = None
    escalated_at: datetime | None = None
    escalation_event_id: uuid.UUID | None = None
    # The case's triage code when it was opened (None: not triaged here), which set `due_at`.
    triage_code: TriageCode | None = None

    def __post_init__(self) -> None:
        self.attendance = AttendanceStatus(self.attendance)
        self.triage_code = TriageCode(self.triage_code) if self.triage_code is not None else None
        self.status = FollowUpStatus(self.status)
        self.outcome = DnaFollowUpOutcome(self.outcome) if self.outcome is not None else None
        self.signposted_to = Destination(self.signposted_to) if self.signposted_to is not None else None

    @property
    def episode(self) -> Episode:
        return Episode(self.pcn_code, self.practice_ods, self.correlation_id)

    @classmethod
    def open(
        cls,
        *,
        appointment_id: uuid.UUID,
        attendance: AttendanceStatus,
        dna_event_id: uuid.UUID,
        episode: Episode,
        missed_at: datetime,
        now: datetime,
        policy: FollowUpPolicy,
        triage_code: TriageCode | None = None,
    ) -> DnaFollowUp:
        """A follow-up whose contact deadline runs, by the case's risk, from when the DNA happened.

        A DNA dated ahead of our clock (a practice system's wrong clock; the contract allows up to two
        years) counts from when we heard of it: a bad date must never postpone contacting the patient.
        A DNA dated long ago is overdue at once and so escalated, which is the safe side.
        """
        missed_at = min(missed_at, now)
        return cls(
            follow_up_id=uuid.uuid4(),
            appointment_id=appointment_id,
            dna_event_id=dna_event_id,
            correlation_id=episode.correlation_id,
            pcn_code=episode.pcn_code,
            practice_ods=episode.practice_ods,
            attendance=attendance,
            opened_at=missed_at,
            due_at=policy.due(triage_code, missed_at),
            triage_code=triage_code,
        )

    def record_outcome(
        self,
        outcome: DnaFollowUpOutcome,
        *,
        clinician: str,
        signposted_to: Destination | None,
        now: datetime,
    ) -> tuple[Signpost | None, list[events.DomainEvent]]:
        """Record what the follow-up achieved; signposting is recorded, safeguarding escalated."""
        if self.status is not FollowUpStatus.OPEN:
            raise InvalidTransition(
                f"this follow-up was already recorded as {self.outcome}; a new DNA opens a new follow-up"
            )
        check_follow_up_outcome(outcome, signposted_to)
        done = events.DnaFollowedUp(appointment_id=self.appointment_id, outcome=outcome)
        happened: list[events.DomainEvent] = [done]
        signpost: Signpost | None = None
        if signposted_to is not None:
            signpost, given = Signpost.record(
                RecordSignpost(signposted_to, SignpostOutcome.INFORMATION_GIVEN),
                episode=self.episode,
                source_event_id=done.event_id,
                now=now,
                appointment_id=self.appointment_id,
            )
            happened.append(given)
        elif outcome is DnaFollowUpOutcome.SAFEGUARDING_ESCALATION:
            happened.append(
                events.Escalated(
                    target=EscalationTarget.PRACTICE_CLINICAL_LEAD,
                    reason=EscalationReason.SAFEGUARDING,
                    appointment_id=self.appointment_id,
                )
            )
        self.status = FollowUpStatus.DONE
        self.outcome = outcome
        self.outcome_at = now
        self.recorded_by = clinician
        self.signposted_to = signposted_to
        self.outcome_event_id = done.event_id
        return signpost, happened

    def due_for_escalation(self, now: datetime) -> bool:
        """Open past its deadline and not escalated yet: the watchdog escalates it once."""
        return self.status is FollowUpStatus.OPEN and self.escalated_at is None and overdue(self.due_at, now)

    @property
    def origin_event_id(self) -> uuid.UUID:
        """The appointment.dna that opened it: what later events follow."""
        return self.dna_event_id

    def escalate_overdue(self, now: datetime) -> events.Escalated:
        escalation = events.Escalated(
            target=EscalationTarget.PRACTICE_CLINICAL_LEAD,
            reason=EscalationReason.FOLLOW_UP_OVERDUE,
            appointment_id=self.appointment_id,
            due_at=self.due_at,
        )
        self.escalated_at = now
        self.escalation_event_id = escalation.event_id
        return escalation


@dataclass(kw_only=True)
class DnaEpisode:
    """Missed appointments counted per episode: the GP told of a repeated DNA once, and for a high-risk
    case the clinical lead told of the first miss once."""

    correlation_id: uuid.UUID
    dna_count: int = 0
    gp_notified_at: datetime | None = None
    gp_notice_event_id: uuid.UUID | None = None
    lead_notified_at: datetime | None = None
    lead_notice_event_id: uuid.UUID | None = None

    def record_missed(
        self, follow_up: DnaFollowUp, now: datetime, *, tell_clinical_lead: bool
    ) -> list[events.DomainEvent]:
        """Count a DNA (a patient's cancellation is no DNA) and say who must be told now."""
        happened: list[events.DomainEvent] = []
        if tell_clinical_lead and self.lead_notified_at is None:
            notice = events.Escalated(
                target=EscalationTarget.PRACTICE_CLINICAL_LEAD,
                reason=EscalationReason.RISK,
                appointment_id=follow_up.appointment_id,
                due_at=follow_up.due_at,
            )
            self.lead_notified_at, self.lead_notice_event_id = now, notice.event_id
            happened.append(notice)
        if follow_up.attendance is not AttendanceStatus.CANCELLED_BY_PATIENT:
            happened.extend(self.record_dna(follow_up.appointment_id, now))
        return happened

    def record_dna(self, appointment_id: uuid.UUID, now: datetime) -> list[events.DomainEvent]:
        self.dna_count += 1
        if not notify_gp_of_repeated_dna(self.dna_count, self.gp_notified_at is not None):
            return []
        notice = events.Escalated(
            target=EscalationTarget.GP, reason=EscalationReason.REPEATED_DNA, appointment_id=appointment_id
        )
        self.gp_notified_at = now
        self.gp_notice_event_id = notice.event_id
        return [notice]
