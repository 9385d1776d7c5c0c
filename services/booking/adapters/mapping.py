"""Table rows <-> domain objects. The stored strings are the enums' values, byte for byte."""

from __future__ import annotations

import uuid

from services.booking.adapters import tables
from services.booking.domain.appointment import Appointment, AppointmentStatus
from services.booking.domain.direct_booking import Refusal
from services.booking.domain.rota import RotaSession, SessionStatus, Slot, SlotKind, SlotStatus
from services.booking.domain.urgency import Urgency
from services.booking.domain.waitlist import WaitlistEntry, WaitlistStatus
from shared.contracts.codes import (
    AppointmentType,
    AttendanceStatus,
    BookedBy,
    Modality,
    NextStep,
    SessionPeriod,
)


def session_of(row: tables.RotaSession) -> RotaSession:
    return RotaSession(
        session_id=row.session_id,
        pcn_code=row.pcn_code,
        practice_ods=row.practice_ods,
        session_date=row.session_date,
        period=SessionPeriod(row.period),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        clinician=row.clinician,
        modalities=tuple(Modality(m) for m in row.modalities.split(",")),
        room=row.room,
        status=SessionStatus(row.status),
    )


def session_row(s: RotaSession) -> tables.RotaSession:
    return tables.RotaSession(
        session_id=s.session_id,
        pcn_code=s.pcn_code,
        practice_ods=s.practice_ods,
        session_date=s.session_date,
        period=s.period.value,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        clinician=s.clinician,
        modalities=",".join(m.value for m in s.modalities),
        room=s.room,
        status=s.status.value,
    )


def slot_of(row: tables.Slot) -> Slot:
    return Slot(
        slot_id=row.slot_id,
        session_id=row.session_id,
        pcn_code=row.pcn_code,
        practice_ods=row.practice_ods,
        seq=row.seq,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        kind=SlotKind(row.kind),
        modality=Modality(row.modality) if row.modality else None,
        status=SlotStatus(row.status),
    )


def slot_row(s: Slot) -> tables.Slot:
    return tables.Slot(
        slot_id=s.slot_id,
        session_id=s.session_id,
        pcn_code=s.pcn_code,
        practice_ods=s.practice_ods,
        seq=s.seq,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        kind=s.kind.value,
        modality=s.modality.value if s.modality else None,
        status=s.status.value,
    )


def appointment_of(row: tables.Appointment, slot_ids: tuple[uuid.UUID, ...]) -> Appointment:
    return Appointment(
        appointment_id=row.appointment_id,
        correlation_id=row.correlation_id,
        call_id=row.call_id,
        pcn_code=row.pcn_code,
        practice_ods=row.practice_ods,
        home_practice_ods=row.home_practice_ods,
        session_id=row.session_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        minutes=row.minutes,
        modality=Modality(row.modality),
        appointment_type=AppointmentType(row.appointment_type),
        booked_by=BookedBy(row.booked_by),
        created_at=row.created_at,
        respond_by=row.respond_by,
        status=AppointmentStatus(row.status),
        attendance=AttendanceStatus(row.attendance) if row.attendance else None,
        cancelled_late=row.cancelled_late,
        next_step=NextStep(row.next_step) if row.next_step else None,
        slot_ids=slot_ids,
        urgency=Urgency(row.urgency),
    )


def appointment_row(a: Appointment) -> tables.Appointment:
    row = tables.Appointment(
        appointment_id=a.appointment_id,
        correlation_id=a.correlation_id,
        call_id=a.call_id,
        pcn_code=a.pcn_code,
        practice_ods=a.practice_ods,
        home_practice_ods=a.home_practice_ods,
        session_id=a.session_id,
        starts_at=a.starts_at,
        ends_at=a.ends_at,
        minutes=a.minutes,
        modality=a.modality.value,
        appointment_type=a.appointment_type.value,
        booked_by=a.booked_by.value,
        respond_by=a.respond_by,
        created_at=a.created_at,
        urgency=a.urgency.value,
    )
    update_appointment_row(row, a)
    return row


def update_appointment_row(row: tables.Appointment, a: Appointment) -> None:
    """The fields an appointment's outcome changes."""
    row.status = a.status.value
    row.attendance = a.attendance.value if a.attendance else None
    row.cancelled_late = a.cancelled_late
    row.next_step = a.next_step.value if a.next_step else None


def entry_of(row: tables.WaitlistEntry) -> WaitlistEntry:
    return WaitlistEntry(
        entry_id=row.entry_id,
        call_id=row.call_id,
        correlation_id=row.correlation_id,
        cause_event_id=row.cause_event_id,
        pcn_code=row.pcn_code,
        practice_ods=row.practice_ods,
        respond_by=row.respond_by,
        modality=Modality(row.modality) if row.modality else None,
        minutes=row.minutes,
        created_at=row.created_at,
        appointment_type=AppointmentType(row.appointment_type),
        status=WaitlistStatus(row.status),
        appointment_id=row.appointment_id,
        urgency=Urgency(row.urgency),
    )


def entry_row(e: WaitlistEntry) -> tables.WaitlistEntry:
    return tables.WaitlistEntry(
        entry_id=e.entry_id,
        call_id=e.call_id,
        correlation_id=e.correlation_id,
        cause_event_id=e.cause_event_id,
        pcn_code=e.pcn_code,
        practice_ods=e.practice_ods,
        respond_by=e.respond_by,
        modality=e.modality.value if e.modality else None,
        minutes=e.minutes,
        appointment_type=e.appointment_type.value,
        status=e.status.value,
        created_at=e.created_at,
        appointment_id=e.appointment_id,
        urgency=e.urgency.value,
    )


def refusal_of(row: tables.DirectBookingRefusal) -> Refusal:
    return Refusal(row.appointment_id, row.practice_ods, row.reason, row.refused_at)
