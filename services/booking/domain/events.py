"""What booking announces, as plain values; the application layer turns them into contract events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from shared.contracts.codes import CancelledBy, EscalationReason, EscalationTarget, SessionCancellationReason

if TYPE_CHECKING:
    from services.booking.domain.appointment import Appointment
    from services.booking.domain.rota import RotaSession
    from services.booking.domain.waitlist import WaitlistEntry


@dataclass(frozen=True)
class SessionWasScheduled:
    session: RotaSession


@dataclass(frozen=True)
class SessionWasCancelled:
    session: RotaSession
    reason_code: SessionCancellationReason
    reason: str | None  # free text beside the code


@dataclass(frozen=True)
class AppointmentWasBooked:
    appointment: Appointment


@dataclass(frozen=True)
class AppointmentWasCancelled:
    appointment_id: uuid.UUID
    cancelled_by: CancelledBy
    late: bool
    pcn_code: str
    practice_ods: str  # the patient's practice: events about an appointment are routed by it
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class CaseWaitlisted:
    entry: WaitlistEntry


@dataclass(frozen=True)
class CaseNeedsEscalation:
    target: EscalationTarget
    reason: EscalationReason
    pcn_code: str
    practice_ods: str
    correlation_id: uuid.UUID
    call_id: uuid.UUID | None
    appointment_id: uuid.UUID | None
    due_at: datetime | None = None


DomainEvent = (
    SessionWasScheduled
    | SessionWasCancelled
    | AppointmentWasBooked
    | AppointmentWasCancelled
    | CaseWaitlisted
    | CaseNeedsEscalation
)
