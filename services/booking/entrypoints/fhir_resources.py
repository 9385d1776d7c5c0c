"""Booking's slots and appointments as FHIR R4B resources (GP Connect's shapes), and FHIR search params."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.slot import Slot as FhirSlot

from services.booking.domain.appointment import Appointment, AppointmentStatus
from services.booking.domain.rota import Slot, SlotStatus
from shared.contracts.codes import Modality
from shared.contracts.text import check_instant
from shared.http.paging import PageRequest, encode_cursor

FHIR_JSON = "application/fhir+json"
DELIVERY_CHANNEL_URL = "https://fhir.nhs.uk/StructureDefinition/Extension-GPConnect-DeliveryChannel-2"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"

CHANNEL_OF: dict[Modality, str] = {
    Modality.TELEPHONE: "Telephone",
    Modality.VIDEO: "Video",
    Modality.FACE_TO_FACE: "In-person",
}
MODALITY_OF = {v: k for k, v in CHANNEL_OF.items()}
APPOINTMENT_STATUS = {
    AppointmentStatus.BOOKED: "booked",
    AppointmentStatus.ATTENDED: "fulfilled",
    AppointmentStatus.DNA: "noshow",
    AppointmentStatus.CANCELLED: "cancelled",
}


def fhir_response(resource: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(json.loads(resource.model_dump_json()), status_code=status_code, media_type=FHIR_JSON)


def outcome(status_code: int, code: str, diagnostics: str) -> JSONResponse:
    issue = {"severity": "error", "code": code, "diagnostics": diagnostics}
    return fhir_response(
        OperationOutcome.model_validate({"resourceType": "OperationOutcome", "issue": [issue]}), status_code
    )


def slot_resource(slot: Slot) -> FhirSlot:
    extension = []
    if slot.modality:
        extension.append({"url": DELIVERY_CHANNEL_URL, "valueCode": CHANNEL_OF[slot.modality]})
    return FhirSlot.model_validate(
        {
            "resourceType": "Slot",
            "id": str(slot.slot_id),
            "extension": extension or None,
            "schedule": {"reference": f"Schedule/{slot.session_id}"},
            "status": "free" if slot.status is SlotStatus.FREE else "busy",
            "start": slot.starts_at.isoformat(),
            "end": slot.ends_at.isoformat(),
            "serviceType": [{"text": "Mental Health Practitioner"}],
        }
    )


def search_bundle(request: Request, slots: list[Slot], total: int, page: PageRequest) -> Bundle:
    """A searchset of one page of Slots (of up to `page.fetch` fetched), linking `next` if there is more."""
    links = [{"relation": "self", "url": str(request.url)}]
    if len(slots) > page.limit:
        following = request.url.include_query_params(cursor=encode_cursor(page.offset + page.limit))
        links.append({"relation": "next", "url": str(following)})
    entries = [
        {"fullUrl": f"Slot/{s.slot_id}", "resource": json.loads(slot_resource(s).model_dump_json())}
        for s in slots[: page.limit]
    ]
    return Bundle.model_validate(
        {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links, "entry": entries}
    )


def appointment_resource(appointment: Appointment) -> FhirAppointment:
    return FhirAppointment.model_validate(
        {
            "resourceType": "Appointment",
            "id": str(appointment.appointment_id),
            "extension": [{"url": DELIVERY_CHANNEL_URL, "valueCode": CHANNEL_OF[appointment.modality]}],
            "status": APPOINTMENT_STATUS[appointment.status],
            "appointmentType": {"text": appointment.appointment_type.value},
            "start": appointment.starts_at.isoformat(),
            "end": appointment.ends_at.isoformat(),
            "minutesDuration": appointment.minutes,
            "slot": [{"reference": f"Slot/{s}"} for s in appointment.slot_ids],
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


def parse_start(values: list[str]) -> tuple[datetime | None, datetime | None]:
    """FHIR date search prefixes: `start=ge...` and `start=le...` (also gt/lt)."""
    low: datetime | None = None
    high: datetime | None = None
    for value in values:
        prefix, raw = value[:2], value[2:]
        try:
            instant = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            # Name the rule, not the value: a search parameter may hold anything a client typed.
            raise ValueError("start: use ge/gt/le/lt followed by an ISO 8601 instant") from None
        if instant.tzinfo is None:
            raise ValueError("start: give a timezone, e.g. 2026-03-30T09:00:00+01:00")
        try:
            instant = check_instant(instant)
        except (ValueError, OverflowError):
            raise ValueError("start: must be between 2000-01-01 and two years ahead") from None
        if prefix in ("ge", "gt"):
            low = instant
        elif prefix in ("le", "lt"):
            high = instant
        else:
            raise ValueError("start: use the ge/gt/le/lt prefixes")
    return low, high
