"""Booking's commands: what an entry point asks booking to do, as frozen values.

`cause` is the event a command comes from (None over HTTP): booking's events name it as their causation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.booking.domain.rota import SessionPlan
from shared.contracts.codes import (
    AppointmentType,
    AttendanceStatus,
    BookedBy,
    CancelledBy,
    Modality,
    NextStep,
    SessionCancellationReason,
    TriageCode,
)
from shared.contracts.envelope import Envelope


@dataclass(frozen=True)
class LoadRota:
    sessions: tuple[SessionPlan, ...]


@dataclass(frozen=True)
class CancelSession:
    session_id: uuid.UUID
    reason_code: SessionCancellationReason
    reason: str | None = None  # free text beside the code, identifier-free


@dataclass(frozen=True)
class SetDirectBookingCap:
    practice_ods: str
    weekly_direct_bookings: int


@dataclass(frozen=True)
class BookFromTriage:
    """A triage decision: book (or waitlist) if it asks for an appointment; replace an earlier one."""

    call_id: uuid.UUID
    correlation_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    needs_appointment: bool
    respond_by: datetime | None
    modality: Modality | None
    minutes: int | None
    supersedes: uuid.UUID | None
    cause: Envelope[Any]
    decision_sequence: int | None = None  # orders re-triages that arrive out of order (domain/decisions.py)
    triage_code: TriageCode | None = None


@dataclass(frozen=True)
class DirectBook:
    """A practice books a patient straight into a slot (HTTP, FHIR)."""

    appointment_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    starts_at: datetime
    minutes: int
    modality: Modality
    appointment_type: AppointmentType
    call_id: uuid.UUID | None
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class AcceptPracticeBooking:
    """A practice system's own appointment.booked: kept within the cap, else answered by cancellation."""

    booking: DirectBook
    booked_by: BookedBy
    cause: Envelope[Any]


@dataclass(frozen=True)
class CancelAppointment:
    """Cancel a booked appointment and offer its slots to the waitlist.

    `notice`: a practice system reports a cancellation it already made: booking announces nothing and a
    notice for an appointment no longer booked changes nothing. Otherwise (HTTP, FHIR) it is a request:
    booking announces appointment.cancelled and refuses it for an appointment that is not booked.
    """

    appointment_id: uuid.UUID
    cancelled_by: CancelledBy
    late: bool = False
    notice: bool = False
    cause: Envelope[Any] | None = None


@dataclass(frozen=True)
class RecordAttendance:
    appointment_id: uuid.UUID
    attendance: AttendanceStatus
    next_step: NextStep
    recorded_at: datetime  # when the practice recorded it (the event's occurred_at)
    cause: Envelope[Any]


@dataclass(frozen=True)
class RecordDna:
    appointment_id: uuid.UUID
    attendance: AttendanceStatus
    recorded_at: datetime
    cause: Envelope[Any]


@dataclass(frozen=True)
class WatchWaitingCases:
    """The watchdog: re-escalate waiting cases whose next look is due (at most `limit` of them)."""

    limit: int


@dataclass(frozen=True)
class EscalateMissingOutcomes:
    """The watchdog: escalate appointments still without an outcome after the review window, once each."""

    limit: int
