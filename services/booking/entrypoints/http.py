"""Booking HTTP API: rota, slots, appointments (direct booking, cancel), waitlist, attendance review.

Each route translates its request into a command or query and the answer back; no rule lives here.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from services.booking.adapters.unit_of_work import SqlBookingUnitOfWork
from services.booking.application import queries
from services.booking.application.commands import (
    CancelAppointment,
    CancelSession,
    DirectBook,
    LoadRota,
    SetDirectBookingCap,
)
from services.booking.application.context import BookingContext
from services.booking.application.handlers.appointments import AppointmentNotFound, cancel_appointment
from services.booking.application.handlers.direct import direct_book
from services.booking.application.handlers.rota import (
    SessionNotFound,
    cancel_session,
    load_rota,
    set_direct_booking_cap,
)
from services.booking.application.unit_of_work import SlotFilter, SlotTaken
from services.booking.domain.appointment import Appointment, AppointmentNotBooked
from services.booking.domain.direct_booking import SLOT_JUST_TAKEN, DirectBookingRefused
from services.booking.domain.rota import SessionOutsideRotaWindow, SlotStatus
from services.booking.entrypoints.http_models import (
    AppointmentView,
    CancelAppointmentRequest,
    CancelSessionRequest,
    CancelSessionResponse,
    CapRequest,
    CountView,
    DirectBookingRequest,
    RefusalView,
    RotaRequest,
    RotaResponse,
    SessionView,
    SlotView,
    WaitlistView,
)
from shared.contracts.codes import AppointmentType
from shared.contracts.envelope import PcnCode, PracticeOds
from shared.contracts.text import Instant
from shared.db import Database


def build_router(db: Database, ctx: BookingContext) -> APIRouter:
    router = APIRouter(tags=["booking"])
    begin, reading = SqlBookingUnitOfWork.begin, SqlBookingUnitOfWork.reading

    @router.post("/rota", response_model=RotaResponse, status_code=201)
    async def post_rota(body: RotaRequest) -> RotaResponse:
        """Load MHP sessions; one already on the rota (same practice, date, period) is kept as it is."""
        try:
            async with begin(db) as uow:
                loaded = await load_rota(LoadRota(tuple(e.plan() for e in body.sessions)), uow, ctx)
        except SessionOutsideRotaWindow as refused:
            raise HTTPException(422, detail=refused.reason) from None
        return RotaResponse(
            created=len(loaded.session_ids),
            already_on_rota=loaded.already_on_rota,
            session_ids=loaded.session_ids,
        )

    @router.get("/sessions", response_model=list[SessionView])
    async def get_sessions(
        pcn: Annotated[PcnCode, Query(description="PCN code")],
        practice: Annotated[PracticeOds | None, Query()] = None,
        from_date: Annotated[date | None, Query(alias="from")] = None,
        to_date: Annotated[date | None, Query(alias="to")] = None,
    ) -> list[SessionView]:
        async with reading(db) as uow:
            rows = await queries.sessions(uow, pcn, practice, from_date, to_date)
        return [SessionView.of(s) for s in rows]

    @router.post("/sessions/{session_id}/cancel", response_model=CancelSessionResponse)
    async def post_cancel_session(session_id: uuid.UUID, body: CancelSessionRequest) -> CancelSessionResponse:
        """Cancel a session: each appointment in it is rebooked, or waitlisted and escalated."""
        try:
            async with begin(db) as uow:
                command = CancelSession(session_id, body.reason_code, body.reason)
                outcomes = await cancel_session(command, uow, ctx)
        except SessionNotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None
        rebooked = sum(isinstance(o, Appointment) for o in outcomes)
        return CancelSessionResponse(
            session_id=session_id, rebooked=rebooked, waitlisted=len(outcomes) - rebooked
        )

    @router.get("/slots", response_model=list[SlotView])
    async def get_slots(
        pcn: Annotated[PcnCode, Query()],
        practice: Annotated[PracticeOds | None, Query()] = None,
        status: Annotated[SlotStatus | None, Query()] = SlotStatus.FREE,
        start_from: Annotated[Instant | None, Query(alias="from")] = None,
        start_to: Annotated[Instant | None, Query(alias="to")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[SlotView]:
        where = SlotFilter(
            pcn_code=pcn,
            practice_ods=practice,
            status=status,
            starts_from=start_from,
            starts_to=start_to,
            limit=limit,
        )
        async with reading(db) as uow:
            rows = await queries.slots(uow, where)
        return [SlotView.of(s) for s in rows]

    @router.post("/appointments", response_model=AppointmentView, status_code=201)
    async def post_appointment(body: DirectBookingRequest) -> AppointmentView:
        """A practice books a patient straight in; 409 names the reason when the cap or the slot says no."""
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
            async with begin(db) as uow:
                appointment = await direct_book(command, uow, ctx)
        except DirectBookingRefused as refused:
            raise HTTPException(409, detail=refused.reason) from None
        except SlotTaken:
            # Another booking took the slot between our check and our claim (two replicas or processes).
            raise HTTPException(409, detail=SLOT_JUST_TAKEN) from None
        return AppointmentView.of(appointment)

    @router.get("/appointments/{appointment_id}", response_model=AppointmentView)
    async def get_appointment(appointment_id: uuid.UUID) -> AppointmentView:
        async with reading(db) as uow:
            appointment = await queries.appointment(uow, appointment_id)
        if appointment is None:
            raise HTTPException(404, detail=f"no appointment {appointment_id}")
        return AppointmentView.of(appointment)

    @router.post("/appointments/{appointment_id}/cancel", response_model=AppointmentView)
    async def post_cancel_appointment(
        appointment_id: uuid.UUID, body: CancelAppointmentRequest
    ) -> AppointmentView:
        command = CancelAppointment(appointment_id, body.cancelled_by, body.late)
        try:
            async with begin(db) as uow:
                appointment = await cancel_appointment(command, uow, ctx)
        except AppointmentNotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None
        except AppointmentNotBooked as exc:
            raise HTTPException(409, detail=exc.reason) from None
        return AppointmentView.of(appointment)

    @router.get("/waitlist", response_model=list[WaitlistView])
    async def get_waitlist(pcn: Annotated[PcnCode, Query()]) -> list[WaitlistView]:
        """Cases waiting for a slot, earliest deadline first."""
        async with reading(db) as uow:
            rows = await queries.waitlist(uow, pcn)
        return [WaitlistView.of(e) for e in rows]

    @router.get("/attendance-review", response_model=list[AppointmentView])
    async def get_attendance_review(pcn: Annotated[PcnCode | None, Query()] = None) -> list[AppointmentView]:
        """Appointments still 'booked' well after their end: record attended or DNA; nothing is guessed."""
        async with reading(db) as uow:
            rows = await queries.attendance_review(uow, ctx, pcn)
        return [AppointmentView.of(a) for a in rows]

    @router.put("/practices/{practice_ods}/direct-booking-cap", response_model=CapRequest)
    async def put_cap(practice_ods: PracticeOds, body: CapRequest) -> CapRequest:
        async with begin(db) as uow:
            await set_direct_booking_cap(
                SetDirectBookingCap(practice_ods, body.weekly_direct_bookings), uow, ctx
            )
        return body

    @router.get("/direct-booking-refusals", response_model=list[RefusalView])
    async def get_refusals(practice: Annotated[PracticeOds, Query()]) -> list[RefusalView]:
        async with reading(db) as uow:
            rows = await queries.refusals(uow, practice)
        return [RefusalView.of(r) for r in rows]

    @router.get("/counts/prescription-slots", response_model=CountView)
    async def get_prescription_count(
        pcn: Annotated[PcnCode, Query()],
        start_from: Annotated[Instant | None, Query(alias="from")] = None,
        start_to: Annotated[Instant | None, Query(alias="to")] = None,
    ) -> CountView:
        """Prescription slots booked (not cancelled) for a PCN, for the monthly return."""
        async with reading(db) as uow:
            count = await queries.prescription_slots(uow, pcn, start_from, start_to)
        return CountView(pcn_code=pcn, appointment_type=AppointmentType.PRESCRIPTION.value, count=count)

    return router
