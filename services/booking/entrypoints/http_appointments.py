"""Booking HTTP API, the patient side: direct bookings, an appointment, the waitlist, attendance review.

Every read and change of a patient's appointment, and every list of patients' cases, is audited with
the case's correlation id as its episode (booking holds no NHS number).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from services.booking.adapters.unit_of_work import SqlBookingUnitOfWork
from services.booking.application import queries
from services.booking.application.access import POLICY, Action
from services.booking.application.commands import CancelAppointment, DirectBook
from services.booking.application.context import BookingContext
from services.booking.application.handlers.appointments import AppointmentNotFound
from services.booking.application.unit_of_work import SlotTaken
from services.booking.domain.appointment import AppointmentNotBooked
from services.booking.domain.direct_booking import SLOT_JUST_TAKEN, DirectBookingRefused
from services.booking.entrypoints import appointments
from services.booking.entrypoints.http_models import (
    AppointmentView,
    CancelAppointmentRequest,
    DirectBookingRequest,
    WaitlistView,
)
from services.booking.entrypoints.scope import (
    CancelsAppointment,
    Directory,
    ReadsAppointment,
    appointment_record,
    list_scope,
    require_practice,
)
from shared.audit import AuditAction, audit_record, record_access
from shared.contracts.envelope import PcnCode, PracticeOds
from shared.db import Database
from shared.http.paging import Page, page_of
from shared.identity.policy import not_found
from shared.identity.principal import Principal

PRACTICE_ROLES_NOTE = "Practice roles see their own practice's patients only (the default for them)"


def build_appointments_router(db: Database, ctx: BookingContext) -> APIRouter:
    router = APIRouter(tags=["booking"])
    reading = SqlBookingUnitOfWork.reading

    @router.post("/appointments", response_model=AppointmentView, status_code=201)
    async def post_appointment(
        body: DirectBookingRequest,
        principal: Annotated[Principal, Depends(POLICY.requires(Action.BOOK))],
        directory: Directory,
    ) -> AppointmentView:
        """A practice books a patient straight in; 409 names the reason when the cap or the slot says no."""
        require_practice(principal, directory, body.practice_ods, body.pcn_code)
        command = DirectBook(
            appointment_id=body.appointment_id or uuid.uuid4(),
            pcn_code=body.pcn_code,
            practice_ods=body.practice_ods,
            starts_at=body.starts_at,
            minutes=body.minutes,
            modality=body.modality,
            appointment_type=body.appointment_type,
            call_id=body.call_id,
            correlation_id=body.correlation_id or uuid.uuid4(),
        )
        try:
            appointment = await appointments.book(db, ctx, principal, command)
        except AppointmentNotFound:
            raise not_found() from None
        except DirectBookingRefused as refused:
            raise HTTPException(409, detail=refused.reason) from None
        except SlotTaken:
            # Another booking took the slot between our check and our claim (two replicas or processes).
            raise HTTPException(409, detail=SLOT_JUST_TAKEN) from None
        return AppointmentView.of(appointment)

    @router.get("/appointments/{appointment_id}", response_model=AppointmentView)
    async def get_appointment(appointment_id: uuid.UUID, principal: ReadsAppointment) -> AppointmentView:
        try:
            return AppointmentView.of(await appointments.read(db, principal, appointment_id))
        except AppointmentNotFound:
            raise not_found() from None

    @router.post("/appointments/{appointment_id}/cancel", response_model=AppointmentView)
    async def post_cancel_appointment(
        appointment_id: uuid.UUID,
        body: CancelAppointmentRequest,
        principal: CancelsAppointment,
    ) -> AppointmentView:
        command = CancelAppointment(appointment_id, body.cancelled_by, body.late)
        try:
            appointment = await appointments.cancel(db, ctx, principal, command)
        except AppointmentNotFound:
            raise not_found() from None
        except AppointmentNotBooked as exc:
            raise HTTPException(409, detail=exc.reason) from None
        return AppointmentView.of(appointment)

    @router.get("/waitlist", response_model=list[WaitlistView])
    async def get_waitlist(
        request: Request,
        response: Response,
        principal: Annotated[Principal, Depends(POLICY.requires(Action.READ_WAITLIST))],
        directory: Directory,
        page: Page,
        pcn: Annotated[PcnCode, Query()],
        practice: Annotated[PracticeOds | None, Query(description=PRACTICE_ROLES_NOTE)] = None,
    ) -> list[WaitlistView]:
        """Cases waiting for a slot, earliest deadline first."""
        practice = list_scope(principal, directory, pcn, practice)
        async with reading(db) as uow:
            rows = await queries.waitlist(uow, pcn, practice, offset=page.offset, limit=page.fetch)
        shown = page_of(rows, page, request, response)
        # One row per patient listed, so the audit answers "who saw this case" by its episode.
        await record_access(
            db,
            *(
                audit_record(
                    principal,
                    operation="waitlist.list",
                    action=AuditAction.EXECUTE,
                    resource_type="WaitlistEntry",
                    resource_id=entry.entry_id,
                    episode_id=entry.correlation_id,
                )
                for entry in shown
            ),
        )
        return [WaitlistView.of(e) for e in shown]

    @router.get("/attendance-review", response_model=list[AppointmentView])
    async def get_attendance_review(
        request: Request,
        response: Response,
        principal: Annotated[Principal, Depends(POLICY.requires(Action.READ_ATTENDANCE_REVIEW))],
        directory: Directory,
        page: Page,
        pcn: Annotated[PcnCode | None, Query(description="Default: the caller's PCN")] = None,
        practice: Annotated[PracticeOds | None, Query(description=PRACTICE_ROLES_NOTE)] = None,
    ) -> list[AppointmentView]:
        """Appointments still 'booked' well after their end: record attended or DNA; nothing is guessed."""
        pcn = pcn or principal.pcn_code
        if pcn is None:
            raise not_found()
        practice = list_scope(principal, directory, pcn, practice)
        async with reading(db) as uow:
            rows = await queries.attendance_review(
                uow, ctx, pcn, practice, offset=page.offset, limit=page.fetch
            )
        shown = page_of(rows, page, request, response)
        await record_access(
            db,
            *(appointment_record(principal, a, "attendance_review.list", AuditAction.EXECUTE) for a in shown),
        )
        return [AppointmentView.of(a) for a in shown]

    return router
