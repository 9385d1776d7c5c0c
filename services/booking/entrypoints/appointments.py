"""A patient's appointment booked, read or cancelled by a principal: scoped (404) and audited.

Shared by the HTTP and FHIR routes, which differ only in their shapes. A change's audit row commits in
the change's unit of work; a refused look at an appointment that exists is recorded after the rollback.
"""

from __future__ import annotations

import uuid

from services.booking.adapters.unit_of_work import SqlBookingUnitOfWork
from services.booking.application import queries
from services.booking.application.access import sees_appointment
from services.booking.application.commands import CancelAppointment, DirectBook
from services.booking.application.context import BookingContext
from services.booking.application.handlers.appointments import AppointmentNotFound, cancel_appointment
from services.booking.application.handlers.direct import direct_book
from services.booking.domain.appointment import Appointment, AppointmentNotBooked
from services.booking.entrypoints.scope import (
    BOOK,
    CANCEL,
    READ,
    OutOfScope,
    appointment_record,
    record_refusal,
)
from shared.audit import AuditAction, AuditOutcome, record_access
from shared.db import Database
from shared.identity.principal import Principal


async def book(db: Database, ctx: BookingContext, principal: Principal, command: DirectBook) -> Appointment:
    """Book (DirectBookingRefused, SlotTaken as the handler raises them); AppointmentNotFound when the
    id names another organisation's appointment (a re-sent booking is answered with the first)."""
    try:
        async with SqlBookingUnitOfWork.begin(db) as uow:
            earlier = await uow.appointments.get(command.appointment_id)
            if earlier is not None and not sees_appointment(principal, earlier):
                raise OutOfScope(earlier)
            appointment = await direct_book(command, uow, ctx)
            action = AuditAction.READ if earlier is not None else AuditAction.CREATE
            uow.audit(appointment_record(principal, appointment, BOOK, action))
    except OutOfScope as refused:
        await record_refusal(db, principal, refused.appointment, BOOK, AuditAction.CREATE)
        raise AppointmentNotFound("not found") from None
    return appointment


async def read(db: Database, principal: Principal, appointment_id: uuid.UUID) -> Appointment:
    async with SqlBookingUnitOfWork.reading(db) as uow:
        appointment = await queries.appointment(uow, appointment_id)
    if appointment is None:
        raise AppointmentNotFound("not found")
    if not sees_appointment(principal, appointment):
        await record_refusal(db, principal, appointment, READ, AuditAction.READ)
        raise AppointmentNotFound("not found")
    await record_access(db, appointment_record(principal, appointment, READ, AuditAction.READ))
    return appointment


async def cancel(
    db: Database, ctx: BookingContext, principal: Principal, command: CancelAppointment
) -> Appointment:
    """Cancel (AppointmentNotBooked when it is no longer booked); AppointmentNotFound outside scope."""
    seen: Appointment | None = None
    try:
        async with SqlBookingUnitOfWork.begin(db) as uow:
            seen = await uow.appointments.get(command.appointment_id)
            if seen is None:
                raise AppointmentNotFound("not found")
            if not sees_appointment(principal, seen):
                raise OutOfScope(seen)
            appointment = await cancel_appointment(command, uow, ctx)
            uow.audit(appointment_record(principal, appointment, CANCEL, AuditAction.UPDATE))
    except OutOfScope as refused:
        await record_refusal(db, principal, refused.appointment, CANCEL, AuditAction.UPDATE)
        raise AppointmentNotFound("not found") from None
    except AppointmentNotBooked as exc:
        # Nothing changed, but the answer tells the caller the appointment's status: that is a look.
        assert seen is not None
        record = appointment_record(
            principal, seen, CANCEL, AuditAction.UPDATE, AuditOutcome.REFUSED, detail=exc.reason
        )
        await record_access(db, record)
        raise
    return appointment
