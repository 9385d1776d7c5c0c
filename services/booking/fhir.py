"""Practice-system API in FHIR shapes as GP Connect uses them: search free Slots, book/cancel Appointments.

Resources are built and validated with `fhir.resources.R4B` (FHIR 4.3: Slot, Appointment, Bundle and
OperationOutcome have the R4 shape GP Connect uses; fhir.resources 7.1.0 and 8.3.0 ship no R4 subpackage,
and 6.5.0, R4 by default, is built on pydantic 1).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.slot import Slot as FhirSlot
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from services.booking import domain
from services.booking.handlers import (
    SLOT_JUST_TAKEN,
    BookingContext,
    DirectBooking,
    DirectBookingRefused,
    SlotTaken,
    offer_to_waitlist,
    release_appointment,
)
from services.booking.handlers import direct_book as book_direct
from services.booking.models import Appointment, AppointmentSlot, Slot
from shared.contracts.codes import AppointmentType, CancelledBy, Modality
from shared.contracts.envelope import PracticeOds
from shared.db import Database

FHIR_JSON = "application/fhir+json"
DELIVERY_CHANNEL_URL = "https://fhir.nhs.uk/StructureDefinition/Extension-GPConnect-DeliveryChannel-2"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"

CHANNEL_OF: dict[Modality, str] = {
    Modality.TELEPHONE: "Telephone",
    Modality.VIDEO: "Video",
    Modality.FACE_TO_FACE: "In-person",
}
MODALITY_OF = {v: k for k, v in CHANNEL_OF.items()}
APPOINTMENT_STATUS = {"booked": "booked", "attended": "fulfilled", "dna": "noshow", "cancelled": "cancelled"}


def _fhir(resource: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(json.loads(resource.model_dump_json()), status_code=status_code, media_type=FHIR_JSON)


def outcome(status_code: int, code: str, diagnostics: str) -> JSONResponse:
    return _fhir(
        OperationOutcome.model_validate(
            {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
            }
        ),
        status_code,
    )


def slot_resource(slot: Slot) -> FhirSlot:
    extension = []
    if slot.modality:
        extension.append({"url": DELIVERY_CHANNEL_URL, "valueCode": CHANNEL_OF[Modality(slot.modality)]})
    return FhirSlot.model_validate(
        {
            "resourceType": "Slot",
            "id": str(slot.slot_id),
            "extension": extension or None,
            "schedule": {"reference": f"Schedule/{slot.session_id}"},
            "status": "free" if slot.status == "free" else "busy",
            "start": slot.starts_at.isoformat(),
            "end": slot.ends_at.isoformat(),
            "serviceType": [{"text": "Mental Health Practitioner"}],
        }
    )


def appointment_resource(appointment: Appointment, slot_ids: list[uuid.UUID]) -> FhirAppointment:
    return FhirAppointment.model_validate(
        {
            "resourceType": "Appointment",
            "id": str(appointment.appointment_id),
            "extension": [
                {"url": DELIVERY_CHANNEL_URL, "valueCode": CHANNEL_OF[Modality(appointment.modality)]}
            ],
            "status": APPOINTMENT_STATUS.get(appointment.status, "booked"),
            "appointmentType": {"text": appointment.appointment_type},
            "start": appointment.starts_at.isoformat(),
            "end": appointment.ends_at.isoformat(),
            "minutesDuration": appointment.minutes,
            "slot": [{"reference": f"Slot/{s}"} for s in slot_ids],
            "created": appointment.created_at.isoformat(),
            "participant": [
                {
                    "actor": {
                        "identifier": {"system": ODS_SYSTEM, "value": appointment.practice_ods},
                        "display": "Practice",
                    },
                    "status": "accepted",
                }
            ],
        }
    )


def _parse_start(values: list[str]) -> tuple[datetime | None, datetime | None]:
    """FHIR date search prefixes: `start=ge...` and `start=le...` (also gt/lt)."""
    low: datetime | None = None
    high: datetime | None = None
    for value in values:
        prefix, raw = value[:2], value[2:]
        try:
            instant = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"start: {value!r} is not ge/gt/le/lt followed by an ISO 8601 instant") from None
        if instant.tzinfo is None:
            raise ValueError("start: give a timezone, e.g. 2026-03-30T09:00:00+01:00")
        if prefix in ("ge", "gt"):
            low = instant
        elif prefix in ("le", "lt"):
            high = instant
        else:
            raise ValueError("start: use the ge/gt/le/lt prefixes")
    return low, high


def build_fhir_router(db: Database, ctx: BookingContext) -> APIRouter:
    router = APIRouter(prefix="/fhir", tags=["fhir"])

    @router.get("/Slot")
    async def search_slots(
        practice: Annotated[PracticeOds, Query(description="ODS code of the practice")],
        start: Annotated[list[str], Query(description="e.g. start=ge2026-03-30T00:00:00Z")],
        status: Annotated[str, Query()] = "free",
        delivery_channel: Annotated[str | None, Query(alias="delivery-channel")] = None,
        count: Annotated[int, Query(alias="_count", ge=1, le=500)] = 100,
    ) -> JSONResponse:
        """Free MHP slots at a practice between two instants (GP Connect's Search for free slots)."""
        if status != "free":
            return outcome(422, "not-supported", "status: only status=free can be searched")
        try:
            low, high = _parse_start(start)
        except ValueError as exc:
            return outcome(422, "invalid", str(exc))
        query = select(Slot).where(
            Slot.practice_ods == practice, Slot.status == "free", Slot.kind == domain.CLINICAL
        )
        if low is not None:
            query = query.where(col(Slot.starts_at) >= low)
        if high is not None:
            query = query.where(col(Slot.starts_at) <= high)
        if delivery_channel is not None:
            if delivery_channel not in MODALITY_OF:
                return outcome(422, "invalid", f"delivery-channel: one of {sorted(MODALITY_OF)}")
            query = query.where(Slot.modality == MODALITY_OF[delivery_channel].value)
        async with db.read() as session:
            rows = (await session.exec(query.order_by(col(Slot.starts_at)).limit(count))).all()
        bundle = Bundle.model_validate(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": len(rows),
                "entry": [
                    {
                        "fullUrl": f"Slot/{s.slot_id}",
                        "resource": json.loads(slot_resource(s).model_dump_json()),
                    }
                    for s in rows
                ],
            }
        )
        return _fhir(bundle)

    @router.post("/Appointment")
    async def book_appointment(resource: Annotated[dict[str, Any], Body()]) -> JSONResponse:
        """Book an Appointment on one free Slot (or two adjacent for 60 minutes) as a direct booking."""
        try:
            requested = FhirAppointment.model_validate(resource)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:5])
            return outcome(422, "invalid", f"not a valid FHIR Appointment: {fields}")
        references = [s.reference for s in (requested.slot or []) if s.reference]
        if not references:
            return outcome(422, "required", "slot: reference the free Slot to book, e.g. Slot/<id>")
        try:
            slot_id = uuid.UUID(references[0].removeprefix("Slot/"))
        except ValueError:
            return outcome(422, "invalid", "slot: reference must be Slot/<id>")
        async with db.read() as session:
            slot = await session.get(Slot, slot_id)
        if slot is None:
            return outcome(404, "not-found", f"slot: no Slot {slot_id}")
        minutes = domain.SLOT_MINUTES * len(references)
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
        request = DirectBooking(
            appointment_id=uuid.uuid4(),
            pcn_code=slot.pcn_code,
            practice_ods=slot.practice_ods,
            starts_at=slot.starts_at,
            minutes=minutes,
            modality=Modality(slot.modality or Modality.TELEPHONE.value),
            appointment_type=appointment_type,
            call_id=None,
            correlation_id=uuid.uuid4(),
        )
        try:
            async with db.transaction() as session:
                appointment = await book_direct(session, ctx, request, announce=True, cause=None)
                slot_ids = await _slot_ids(session, appointment.appointment_id)
        except DirectBookingRefused as refused:
            return outcome(409, "conflict", refused.reason)
        except (SlotTaken, IntegrityError):
            return outcome(409, "conflict", SLOT_JUST_TAKEN)
        return _fhir(appointment_resource(appointment, slot_ids), 201)

    @router.get("/Appointment/{appointment_id}")
    async def read_appointment(appointment_id: uuid.UUID) -> JSONResponse:
        async with db.read() as session:
            appointment = await session.get(Appointment, appointment_id)
            if appointment is None:
                return outcome(404, "not-found", f"no Appointment {appointment_id}")
            slot_ids = await _slot_ids(session, appointment_id, live_only=False)
        return _fhir(appointment_resource(appointment, slot_ids))

    @router.put("/Appointment/{appointment_id}")
    async def cancel_appointment(
        appointment_id: uuid.UUID, resource: Annotated[dict[str, Any], Body()]
    ) -> JSONResponse:
        """Cancel by PUT with status=cancelled (GP Connect's Cancel an appointment).

        cancelationReason.coding[0].code `prov` means cancelled by the provider; otherwise by the patient.
        """
        try:
            requested = FhirAppointment.model_validate(resource)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:5])
            return outcome(422, "invalid", f"not a valid FHIR Appointment: {fields}")
        if requested.status != "cancelled":
            return outcome(422, "not-supported", "status: only cancellation (status=cancelled) is supported")
        by = CancelledBy.PATIENT
        reason = requested.cancelationReason
        if reason is not None and reason.coding and reason.coding[0].code == "prov":
            by = CancelledBy.PROVIDER
        async with db.transaction() as session:
            appointment = await session.get(Appointment, appointment_id)
            if appointment is None:
                return outcome(404, "not-found", f"no Appointment {appointment_id}")
            slot_ids = await _slot_ids(session, appointment_id, live_only=False)
            if appointment.status != "booked":
                return outcome(409, "conflict", f"status: appointment is {appointment.status}, not booked")
            await release_appointment(session, appointment, by=by, late=False, announce=True, cause=None)
            await offer_to_waitlist(session, ctx, appointment.pcn_code, cause=None)
        return _fhir(appointment_resource(appointment, slot_ids))

    return router


async def _slot_ids(session: Any, appointment_id: uuid.UUID, *, live_only: bool = True) -> list[uuid.UUID]:
    query = select(AppointmentSlot.slot_id).where(AppointmentSlot.appointment_id == appointment_id)
    if live_only:
        query = query.where(col(AppointmentSlot.live))
    return list((await session.exec(query.order_by(col(AppointmentSlot.id)))).all())
