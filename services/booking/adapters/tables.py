"""Booking's own tables: the rota (sessions, slots), appointments, slot claims, the waitlist, caps.

`appointment_slots` is the guard against double booking: a partial unique index allows one live claim
per slot, on SQLite and PostgreSQL alike, whatever the application code does.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from services.booking.adapters.case_watch_tables import WATCH_TABLES
from services.booking.domain.appointment import AppointmentStatus
from services.booking.domain.rota import SessionStatus, SlotStatus
from services.booking.domain.urgency import Urgency
from services.booking.domain.waitlist import WaitlistStatus
from shared.db import UtcDateTime


class RotaSession(SQLModel, table=True):
    __tablename__ = "booking_sessions"
    __table_args__ = (
        UniqueConstraint("practice_ods", "session_date", "period", name="uq_booking_session_practice_period"),
        Index("ix_booking_sessions_next", "practice_ods", "status", "starts_at"),
    )

    session_id: uuid.UUID = Field(primary_key=True)
    pcn_code: str = Field(index=True)
    practice_ods: str
    session_date: date
    period: str
    starts_at: datetime = Field(sa_type=UtcDateTime)
    ends_at: datetime = Field(sa_type=UtcDateTime)
    clinician: str
    modalities: str  # comma-separated Modality values
    room: str | None = None
    status: str = SessionStatus.SCHEDULED.value


class Slot(SQLModel, table=True):
    __tablename__ = "booking_slots"
    # The earliest-slot search reads these indexes in start order and stops at the first fit.
    __table_args__ = (
        Index("ix_booking_slots_practice_search", "practice_ods", "status", "starts_at"),
        Index("ix_booking_slots_pcn_search", "pcn_code", "status", "starts_at"),
        UniqueConstraint("session_id", "seq", name="uq_booking_slot_session_seq"),
    )

    slot_id: uuid.UUID = Field(primary_key=True)
    session_id: uuid.UUID = Field(foreign_key="booking_sessions.session_id")
    pcn_code: str
    practice_ods: str
    seq: int
    starts_at: datetime = Field(sa_type=UtcDateTime)
    ends_at: datetime = Field(sa_type=UtcDateTime)
    kind: str  # clinical | admin
    modality: str | None = None
    # free | booked | cancelled: a search shortcut kept in step with appointment_slots (the guard).
    status: str = SlotStatus.FREE.value


class Appointment(SQLModel, table=True):
    __tablename__ = "booking_appointments"
    __table_args__ = (
        Index("ix_booking_appointments_review", "status", "ends_at"),
        Index("ix_booking_appointments_direct", "practice_ods", "booked_by", "starts_at"),
        # The recent urgent (C/D) arrivals of a PCN, which push routine cases later (domain.urgency).
        Index("ix_booking_appointments_urgent_arrivals", "pcn_code", "urgency", "created_at"),
        # One live MHP booking per triaged call: a redelivered call.triaged cannot book twice.
        Index(
            "uq_booking_live_call",
            "call_id",
            unique=True,
            sqlite_where=text(
                "status = 'booked' AND call_id IS NOT NULL AND appointment_type = 'initial_assessment'"
            ),
            postgresql_where=text(
                "status = 'booked' AND call_id IS NOT NULL AND appointment_type = 'initial_assessment'"
            ),
        ),
    )

    appointment_id: uuid.UUID = Field(primary_key=True)
    correlation_id: uuid.UUID = Field(index=True)
    call_id: uuid.UUID | None = Field(default=None, index=True)
    pcn_code: str
    practice_ods: str  # where the slot is
    home_practice_ods: str  # the patient's practice: events about the appointment are routed by it
    session_id: uuid.UUID
    starts_at: datetime = Field(sa_type=UtcDateTime)
    ends_at: datetime = Field(sa_type=UtcDateTime)
    minutes: int
    modality: str
    appointment_type: str
    booked_by: str
    respond_by: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # booked | attended | dna | cancelled
    status: str = AppointmentStatus.BOOKED.value
    attendance: str | None = None  # NHS Data Dictionary attendance (AttendanceStatus)
    cancelled_late: bool = False
    next_step: str | None = None
    created_at: datetime = Field(sa_type=UtcDateTime)
    urgency: str = Field(default=Urgency.ROUTINE.value, sa_column_kwargs={"server_default": "routine"})


class AppointmentSlot(SQLModel, table=True):
    __tablename__ = "booking_appointment_slots"
    __table_args__ = (
        Index(
            "uq_booking_live_slot",
            "slot_id",
            unique=True,
            sqlite_where=text("live = 1"),
            postgresql_where=text("live"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    appointment_id: uuid.UUID = Field(foreign_key="booking_appointments.appointment_id", index=True)
    slot_id: uuid.UUID = Field(foreign_key="booking_slots.slot_id")
    live: bool = True


class WaitlistEntry(SQLModel, table=True):
    __tablename__ = "booking_waitlist"
    __table_args__ = (
        Index("ix_booking_waitlist_queue", "pcn_code", "status", "respond_by"),
        Index(
            "uq_booking_waiting_call",
            "call_id",
            unique=True,
            sqlite_where=text("status = 'waiting'"),
            postgresql_where=text("status = 'waiting'"),
        ),
    )

    entry_id: uuid.UUID = Field(primary_key=True)
    call_id: uuid.UUID
    correlation_id: uuid.UUID
    cause_event_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    respond_by: datetime = Field(sa_type=UtcDateTime)
    modality: str | None = None
    minutes: int
    appointment_type: str = "initial_assessment"
    status: str = WaitlistStatus.WAITING.value
    created_at: datetime = Field(sa_type=UtcDateTime)
    appointment_id: uuid.UUID | None = None
    urgency: str = Field(default=Urgency.ROUTINE.value, sa_column_kwargs={"server_default": "routine"})


class PracticeCap(SQLModel, table=True):
    """A practice's agreed weekly volume of direct bookings (else the service default)."""

    __tablename__ = "booking_practice_caps"

    practice_ods: str = Field(primary_key=True)
    weekly_direct_bookings: int


class DirectBookingRefusal(SQLModel, table=True):
    """Why a practice's direct booking was refused; the practice was told by appointment.cancelled."""

    __tablename__ = "booking_direct_refusals"

    appointment_id: uuid.UUID = Field(primary_key=True)
    practice_ods: str = Field(index=True)
    reason: str
    refused_at: datetime = Field(sa_type=UtcDateTime)


TABLES = (
    RotaSession.__table__,  # type: ignore[attr-defined]
    Slot.__table__,  # type: ignore[attr-defined]
    Appointment.__table__,  # type: ignore[attr-defined]
    AppointmentSlot.__table__,  # type: ignore[attr-defined]
    WaitlistEntry.__table__,  # type: ignore[attr-defined]
    PracticeCap.__table__,  # type: ignore[attr-defined]
    DirectBookingRefusal.__table__,  # type: ignore[attr-defined]
    *WATCH_TABLES,
)
