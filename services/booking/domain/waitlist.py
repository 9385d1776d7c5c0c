"""The waitlist: a case with no slot inside its deadline waits visibly, earliest deadline first."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.booking.domain.appointment import BookingRequest
from services.booking.domain.events import CaseNeedsEscalation, CaseWaitlisted
from services.booking.domain.urgency import Urgency
from shared.contracts.codes import AppointmentType, EscalationReason, EscalationTarget, Modality


class WaitlistStatus(StrEnum):
    WAITING = "waiting"
    BOOKED = "booked"
    WITHDRAWN = "withdrawn"


@dataclass
class WaitlistEntry:
    entry_id: uuid.UUID
    call_id: uuid.UUID
    correlation_id: uuid.UUID
    cause_event_id: uuid.UUID
    pcn_code: str
    practice_ods: str  # the patient's practice
    respond_by: datetime
    modality: Modality | None
    minutes: int
    created_at: datetime
    appointment_type: AppointmentType = AppointmentType.INITIAL_ASSESSMENT
    status: WaitlistStatus = WaitlistStatus.WAITING
    appointment_id: uuid.UUID | None = None
    urgency: Urgency = Urgency.ROUTINE

    @classmethod
    def of(cls, request: BookingRequest, *, cause_event_id: uuid.UUID, now: datetime) -> WaitlistEntry:
        return cls(
            entry_id=uuid.uuid4(),
            call_id=request.waitlist_call_id,
            correlation_id=request.correlation_id,
            cause_event_id=cause_event_id,
            pcn_code=request.pcn_code,
            practice_ods=request.home_practice_ods,
            respond_by=request.respond_by,
            modality=request.modality,
            minutes=request.minutes,
            appointment_type=request.appointment_type,
            created_at=now,
            urgency=request.urgency,
        )

    def request(self) -> BookingRequest:
        return BookingRequest(
            call_id=self.call_id,
            correlation_id=self.correlation_id,
            pcn_code=self.pcn_code,
            home_practice_ods=self.practice_ods,
            respond_by=self.respond_by,
            modality=self.modality,
            minutes=self.minutes,
            appointment_type=self.appointment_type,
            urgency=self.urgency,
        )

    def booked_as(self, appointment_id: uuid.UUID) -> None:
        self.status = WaitlistStatus.BOOKED
        self.appointment_id = appointment_id

    def withdraw(self) -> None:
        """A re-triage replaces the decision this entry was waiting on."""
        self.status = WaitlistStatus.WITHDRAWN


def by_deadline(entries: Iterable[WaitlistEntry]) -> list[WaitlistEntry]:
    """Freed capacity is offered earliest deadline first (the first to wait first among equals)."""
    return sorted(entries, key=lambda e: (e.respond_by, e.created_at, e.entry_id))


def waitlisting_events(
    entry: WaitlistEntry, replaces: uuid.UUID | None, call_id: uuid.UUID | None
) -> list[CaseWaitlisted | CaseNeedsEscalation]:
    """A waiting case is announced and its practice's clinical lead told: the deadline is at risk, or (when
    it replaces an appointment the provider cancelled) the case lost its appointment and was not rebooked.
    """
    reason = (
        EscalationReason.APPOINTMENT_DEADLINE_AT_RISK
        if replaces is None
        else EscalationReason.APPOINTMENT_CANCELLED
    )
    return [
        CaseWaitlisted(entry),
        CaseNeedsEscalation(
            target=EscalationTarget.PRACTICE_CLINICAL_LEAD,
            reason=reason,
            pcn_code=entry.pcn_code,
            practice_ods=entry.practice_ods,
            correlation_id=entry.correlation_id,
            call_id=call_id,
            appointment_id=replaces,
            due_at=entry.respond_by,
        ),
    ]
