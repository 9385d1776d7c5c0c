"""DNA follow-up: contact after a missed appointment by a deadline, the GP told of repeated DNAs, outcomes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.referrals.domain import events
from services.referrals.domain.deadlines import Deadlines, overdue
from services.referrals.domain.decisions import RecordSignpost
from services.referrals.domain.episode import Episode
from services.referrals.domain.lifecycle import InvalidTransition
from services.referrals.domain.signpost import Signpost
from shared.contracts.codes import (
    AttendanceStatus,
    Destination,
    DnaFollowUpOutcome,
    EscalationReason,
    EscalationTarget,
    SignpostOutcome,
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
    # One follow-up per missed appointment, however often the DNA is re-sent.
    appointment_id: uuid.UUID
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

    def __post_init__(self) -> None:
        self.attendance = AttendanceStatus(self.attendance)
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
        deadlines: Deadlines,
    ) -> DnaFollowUp:
        """A follow-up whose contact deadline counts working days from when the DNA happened.

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
            due_at=deadlines.follow_up_due(missed_at),
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
    """DNAs counted per episode, so the GP is told of a repeated DNA once."""

    correlation_id: uuid.UUID
    dna_count: int = 0
    gp_notified_at: datetime | None = None
    gp_notice_event_id: uuid.UUID | None = None

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
