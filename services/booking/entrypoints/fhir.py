"""Practice-system API in FHIR shapes as GP Connect uses them: search free Slots, book/cancel Appointments.

Practice systems and staff act for their own practice only: another practice's Slot or Appointment is
not found. Resources are built and validated with `fhir.resources.R4B` (FHIR 4.3: Slot, Appointment,
Bundle and OperationOutcome have the R4 shape GP Connect uses; fhir.resources 7.1.0 and 8.3.0 ship no R4
subpackage, and 6.5.0, R4 by default, is built on pydantic 1). Translation only: the use cases are the
HTTP API's (`entrypoints/appointments.py`).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from pydantic import ValidationError

from services.booking.adapters.unit_of_work import SqlBookingUnitOfWork
from services.booking.application import queries
from services.booking.application.access import POLICY, Action, sees_practice
from services.booking.application.commands import CancelAppointment, DirectBook
from services.booking.application.context import BookingContext
from services.booking.application.handlers.appointments import AppointmentNotFound
from services.booking.application.unit_of_work import SlotFilter, SlotTaken
from services.booking.domain.appointment import AppointmentNotBooked
from services.booking.domain.direct_booking import SLOT_JUST_TAKEN, DirectBookingRefused
from services.booking.domain.rota import SLOT_MINUTES, SlotStatus
from services.booking.entrypoints import appointments
from services.booking.entrypoints.fhir_resources import (
    MODALITY_OF,
    appointment_resource,
    fhir_response,
    outcome,
    parse_start,
    search_bundle,
)
from services.booking.entrypoints.scope import CancelsAppointment, Directory, ReadsAppointment
from shared.contracts.codes import AppointmentType, CancelledBy, Modality
from shared.contracts.envelope import PracticeOds
from shared.db import Database
from shared.http.paging import DEFAULT_LIMIT, MAX_LIMIT, PageRequest, decode_cursor
from shared.identity.principal import Principal


def _invalid(exc: ValidationError) -> JSONResponse:
    fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:5])
    return outcome(422, "invalid", f"not a valid FHIR Appointment: {fields}")


def build_fhir_router(db: Database, ctx: BookingContext) -> APIRouter:
    router = APIRouter(prefix="/fhir", tags=["fhir"])
    reading = SqlBookingUnitOfWork.reading

    @router.get("/Slot")
    async def search_slots(
        request: Request,
        principal: Annotated[Principal, Depends(POLICY.requires(Action.SEARCH_SLOTS))],
        directory: Directory,
        practice: Annotated[PracticeOds, Query(description="ODS code of the practice")],
        start: Annotated[list[str], Query(description="e.g. start=ge2026-03-30T00:00:00Z")],
        status: Annotated[str, Query()] = "free",
        delivery_channel: Annotated[str | None, Query(alias="delivery-channel")] = None,
        count: Annotated[int, Query(alias="_count", ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, Query(max_length=64, description="From the Bundle's next link")] = None,
    ) -> JSONResponse:
        """Free MHP slots at a practice between two instants (GP Connect's Search for free slots).

        A page of `_count` slots; the searchset Bundle's `next` link names the next page.
        """
        practice_pcn = directory.pcn_of(practice)
        if not sees_practice(principal, practice_pcn, practice):
            return outcome(404, "not-found", "practice: not found")
        if status != "free":
            return outcome(422, "not-supported", "status: only status=free can be searched")
        try:
            low, high = queries.slot_window(*parse_start(start), ctx.clock())
        except (ValueError, queries.SlotWindowTooWide) as exc:
            return outcome(422, "invalid", getattr(exc, "reason", str(exc)))
        if delivery_channel is not None and delivery_channel not in MODALITY_OF:
            return outcome(422, "invalid", f"delivery-channel: one of {sorted(MODALITY_OF)}")
        page = PageRequest(limit=count, offset=decode_cursor(cursor) if cursor else 0)
        where = SlotFilter(
            practice_ods=practice,
            status=SlotStatus.FREE,
            starts_from=low,
            starts_to=high,
            to_inclusive=True,
            modality=MODALITY_OF[delivery_channel] if delivery_channel else None,
            limit=page.fetch,
            offset=page.offset,
        )
        async with reading(db) as uow:
            rows = await queries.slots(uow, where)
            total = await queries.slot_count(uow, where)
        return fhir_response(search_bundle(request, rows, total, page))

    @router.post("/Appointment")
    async def book_appointment(
        principal: Annotated[Principal, Depends(POLICY.requires(Action.BOOK))],
        resource: Annotated[dict[str, Any], Body()],
    ) -> JSONResponse:
        """Book an Appointment on one free Slot (or two adjacent for 60 minutes) as a direct booking.

        Only a Slot of the caller's own practice (a PCN's MHP: of the PCN) can be booked; any other is
        not found.
        """
        try:
            requested = FhirAppointment.model_validate(resource)
        except ValidationError as exc:
            return _invalid(exc)
        references = [s.reference for s in (requested.slot or []) if s.reference]
        if not references:
            return outcome(422, "required", "slot: reference the free Slot to book, e.g. Slot/<id>")
        try:
            slot_id = uuid.UUID(references[0].removeprefix("Slot/"))
        except ValueError:
            return outcome(422, "invalid", "slot: reference must be Slot/<id>")
        async with reading(db) as uow:
            slot = await queries.slot(uow, slot_id)
        if slot is None or not sees_practice(principal, slot.pcn_code, slot.practice_ods):
            return outcome(404, "not-found", f"slot: no Slot {slot_id}")
        minutes = SLOT_MINUTES * len(references)
        if minutes not in (30, 60):
            return outcome(422, "invalid", "slot: book one slot (30 minutes) or two adjacent slots (60)")
        appointment_type = AppointmentType.INITIAL_ASSESSMENT
        if requested.appointmentType is not None and requested.appointmentType.text:
            try:
                appointment_type = AppointmentType(requested.appointmentType.text)
            except ValueError:
                return outcome(
                    422, "invalid", f"appointmentType.text: one of {[t.value for t in AppointmentType]}"
                )
        command = DirectBook(
            appointment_id=uuid.uuid4(),
            pcn_code=slot.pcn_code,
            practice_ods=slot.practice_ods,
            starts_at=slot.starts_at,
            minutes=minutes,
            modality=slot.modality or Modality.TELEPHONE,
            appointment_type=appointment_type,
            call_id=None,
            correlation_id=uuid.uuid4(),
        )
        try:
            appointment = await appointments.book(db, ctx, principal, command)
        except DirectBookingRefused as refused:
            return outcome(409, "conflict", refused.reason)
        except SlotTaken:
            return outcome(409, "conflict", SLOT_JUST_TAKEN)
        return fhir_response(appointment_resource(appointment), 201)

    @router.get("/Appointment/{appointment_id}")
    async def read_appointment(appointment_id: uuid.UUID, principal: ReadsAppointment) -> JSONResponse:
        try:
            appointment = await appointments.read(db, principal, appointment_id)
        except AppointmentNotFound:
            return outcome(404, "not-found", f"no Appointment {appointment_id}")
        return fhir_response(appointment_resource(appointment))

    @router.put("/Appointment/{appointment_id}")
    async def cancel(
        appointment_id: uuid.UUID,
        principal: CancelsAppointment,
        resource: Annotated[dict[str, Any], Body()],
    ) -> JSONResponse:
        """Cancel by PUT with status=cancelled (GP Connect's Cancel an appointment).

        cancelationReason.coding[0].code `prov` means cancelled by the provider; otherwise by the patient.
        """
        try:
            requested = FhirAppointment.model_validate(resource)
        except ValidationError as exc:
            return _invalid(exc)
        if requested.status != "cancelled":
            return outcome(422, "not-supported", "status: only cancellation (status=cancelled) is supported")
        by = CancelledBy.PATIENT
        reason = requested.cancelationReason
        if reason is not None and reason.coding and reason.coding[0].code == "prov":
            by = CancelledBy.PROVIDER
        try:
            appointment = await appointments.cancel(db, ctx, principal, CancelAppointment(appointment_id, by))
        except AppointmentNotFound:
            return outcome(404, "not-found", f"no Appointment {appointment_id}")
        except AppointmentNotBooked as exc:
            return outcome(409, "conflict", exc.reason)
        return fhir_response(appointment_resource(appointment))

    return router
