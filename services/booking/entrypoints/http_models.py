"""Booking's HTTP request and response models (the wire shapes; the rules live in the domain)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from services.booking.entrypoints.rota_file import RotaEntry
from shared.contracts.codes import AppointmentType, CancelledBy, Modality, SessionCancellationReason
from shared.contracts.envelope import PcnCode, PracticeOds
from shared.contracts.text import IdentifierFreeText, Instant


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _View(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, value: Any) -> Self:
        return cls.model_validate(value, from_attributes=True)


class RotaRequest(_Request):
    sessions: list[RotaEntry] = Field(min_length=1, max_length=5000)


class RotaResponse(BaseModel):
    created: int
    already_on_rota: int
    session_ids: list[uuid.UUID]


class SessionView(_View):
    session_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    session_date: date
    period: str
    starts_at: datetime
    ends_at: datetime
    clinician: str
    modalities: list[str]
    room: str | None
    status: str


class CancelSessionRequest(_Request):
    reason_code: SessionCancellationReason = Field(description="Why the session is cancelled, as a code.")
    reason: IdentifierFreeText | None = Field(
        default=None, max_length=200, description="Free text beside the code; no patient identifiers."
    )


class CancelSessionResponse(BaseModel):
    session_id: uuid.UUID
    rebooked: int
    waitlisted: int


class SlotView(_View):
    slot_id: uuid.UUID
    session_id: uuid.UUID
    practice_ods: str
    starts_at: datetime
    ends_at: datetime
    kind: str
    modality: str | None
    status: str


class DirectBookingRequest(_Request):
    pcn_code: PcnCode
    practice_ods: PracticeOds
    starts_at: Instant = Field(description="Start of a free MHP slot at the practice (timezone-aware).")
    minutes: Literal[30, 60] = 30
    modality: Modality
    appointment_type: AppointmentType = AppointmentType.INITIAL_ASSESSMENT
    appointment_id: uuid.UUID | None = Field(
        default=None, description="The practice's id; made up if absent."
    )
    call_id: uuid.UUID | None = None
    correlation_id: uuid.UUID | None = None


class AppointmentView(_View):
    appointment_id: uuid.UUID
    correlation_id: uuid.UUID
    call_id: uuid.UUID | None
    practice_ods: str
    home_practice_ods: str
    session_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    minutes: int
    modality: str
    appointment_type: str
    booked_by: str
    respond_by: datetime | None
    status: str
    attendance: str | None


class CancelAppointmentRequest(_Request):
    cancelled_by: CancelledBy
    late: bool = False


class WaitlistView(_View):
    entry_id: uuid.UUID
    call_id: uuid.UUID
    practice_ods: str
    respond_by: datetime
    modality: str | None
    minutes: int
    created_at: datetime


class CapRequest(_Request):
    weekly_direct_bookings: int = Field(ge=0, le=1000)


class RefusalView(_View):
    appointment_id: uuid.UUID
    practice_ods: str
    reason: str
    refused_at: datetime


class CountView(BaseModel):
    pcn_code: str
    practice_ods: str | None = Field(default=None, description="The practice's patients only, when set")
    appointment_type: str
    count: int
