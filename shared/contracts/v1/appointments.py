"""v1 events of the rota and appointments: sessions, bookings, outcomes and DNA follow-up."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from shared.contracts.codes import (
    AppointmentType,
    AttendanceStatus,
    BookedBy,
    CancelledBy,
    Destination,
    DnaFollowUpOutcome,
    Modality,
    NextStep,
    SessionCancellationReason,
    SessionPeriod,
)
from shared.contracts.envelope import (
    Contract,
    Envelope,
    StaffId,
    UtcDatetime,
)
from shared.contracts.text import CleanText, IdentifierFreeText
from shared.working_time import LONDON

# --- sessions ----------------------------------------------------------------------------------


class SessionScheduledData(Contract):
    session_id: uuid.UUID
    session_date: date
    period: SessionPeriod
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    modalities: tuple[Modality, ...] = Field(min_length=1)
    room: CleanText | None = Field(default=None, max_length=64)
    clinician: StaffId

    @model_validator(mode="after")
    def _one_session_in_time(self) -> SessionScheduledData:
        # Capacity is counted by session_date: it must be the day the session runs, in London.
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.session_date != self.starts_at.astimezone(LONDON).date():
            raise ValueError("session_date must be the London date of starts_at")
        return self


class SessionScheduled(Envelope[SessionScheduledData]):
    EVENT_TYPE = "session.scheduled"
    event_type: Literal["session.scheduled"] = "session.scheduled"


class SessionCancelledData(Contract):
    session_id: uuid.UUID
    reason_code: SessionCancellationReason | None = Field(
        default=None, description="Why, as a code (optional only so that 1.0 producers stay valid)."
    )
    reason: IdentifierFreeText | None = Field(
        default=None, max_length=200, description="Free text beside the code; no patient identifiers."
    )


class SessionCancelled(Envelope[SessionCancelledData]):
    EVENT_TYPE = "session.cancelled"
    event_type: Literal["session.cancelled"] = "session.cancelled"


# --- appointments ------------------------------------------------------------------------------


class AppointmentBookedData(Contract):
    appointment_id: uuid.UUID
    call_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    starts_at: UtcDatetime
    minutes: int = Field(gt=0, le=240)
    modality: Modality
    appointment_type: AppointmentType
    booked_by: BookedBy
    respond_by: UtcDatetime | None = None


class AppointmentBooked(Envelope[AppointmentBookedData]):
    EVENT_TYPE = "appointment.booked"
    event_type: Literal["appointment.booked"] = "appointment.booked"


class AppointmentCancelledData(Contract):
    appointment_id: uuid.UUID
    cancelled_by: CancelledBy
    late: bool = False


class AppointmentCancelled(Envelope[AppointmentCancelledData]):
    EVENT_TYPE = "appointment.cancelled"
    event_type: Literal["appointment.cancelled"] = "appointment.cancelled"


class AppointmentWaitlistedData(Contract):
    call_id: uuid.UUID
    respond_by: UtcDatetime
    modality: Modality | None = None
    minutes: int = Field(gt=0, le=240)


class AppointmentWaitlisted(Envelope[AppointmentWaitlistedData]):
    EVENT_TYPE = "appointment.waitlisted"
    event_type: Literal["appointment.waitlisted"] = "appointment.waitlisted"


class AppointmentAttendedData(Contract):
    appointment_id: uuid.UUID
    attendance: Literal[AttendanceStatus.ATTENDED, AttendanceStatus.ARRIVED_LATE_SEEN]
    next_step: NextStep
    referral_destination: Destination | None = None
    appointment_starts_at: UtcDatetime | None = Field(
        default=None, description="When the appointment started; the outcome cannot precede it."
    )


def _outcome_not_before_start(event: AppointmentAttended | AppointmentDna) -> None:
    starts_at = event.data.appointment_starts_at
    if starts_at is not None and event.occurred_at < starts_at:
        raise ValueError("an attendance outcome cannot be recorded before the appointment starts")


class AppointmentAttended(Envelope[AppointmentAttendedData]):
    EVENT_TYPE = "appointment.attended"
    event_type: Literal["appointment.attended"] = "appointment.attended"

    @model_validator(mode="after")
    def _not_before_start(self) -> AppointmentAttended:
        _outcome_not_before_start(self)
        return self


class AppointmentDnaData(Contract):
    appointment_id: uuid.UUID
    attendance: Literal[AttendanceStatus.DID_NOT_ATTEND, AttendanceStatus.ARRIVED_LATE_NOT_SEEN]
    appointment_starts_at: UtcDatetime | None = Field(
        default=None, description="When the appointment started; a DNA cannot be recorded before it."
    )


class AppointmentDna(Envelope[AppointmentDnaData]):
    EVENT_TYPE = "appointment.dna"
    event_type: Literal["appointment.dna"] = "appointment.dna"

    @model_validator(mode="after")
    def _not_before_start(self) -> AppointmentDna:
        _outcome_not_before_start(self)
        return self


class DnaFollowedUpData(Contract):
    appointment_id: uuid.UUID
    outcome: DnaFollowUpOutcome


class DnaFollowedUp(Envelope[DnaFollowedUpData]):
    EVENT_TYPE = "dna.followed_up"
    event_type: Literal["dna.followed_up"] = "dna.followed_up"
