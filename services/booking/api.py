"""Booking HTTP API: rota, slots, appointments (direct booking, cancel), waitlist, attendance review."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from services.booking import domain
from services.booking.handlers import (
    SLOT_JUST_TAKEN,
    BookingContext,
    DirectBooking,
    DirectBookingRefused,
    NotFound,
    SlotTaken,
    cancel_session,
    direct_book,
    offer_to_waitlist,
    release_appointment,
    schedule_sessions,
)
from services.booking.handlers import attendance_review as review_query
from services.booking.models import (
    Appointment,
    DirectBookingRefusal,
    PracticeCap,
    RotaSession,
    Slot,
    WaitlistEntry,
)
from shared.contracts.codes import AppointmentType, CancelledBy, Modality
from shared.contracts.envelope import PcnCode, PracticeOds, UtcDatetime
from shared.db import Database


class RotaRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sessions: list[domain.RotaEntry] = Field(min_length=1, max_length=5000)


class RotaResponse(BaseModel):
    created: int
    already_on_rota: int
    session_ids: list[uuid.UUID]


class SessionView(BaseModel):
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


class CancelSessionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=200)


class CancelSessionResponse(BaseModel):
    session_id: uuid.UUID
    rebooked: int
    waitlisted: int


class SlotView(BaseModel):
    slot_id: uuid.UUID
    session_id: uuid.UUID
    practice_ods: str
    starts_at: datetime
    ends_at: datetime
    kind: str
    modality: str | None
    status: str


class DirectBookingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pcn_code: PcnCode
    practice_ods: PracticeOds
    starts_at: UtcDatetime = Field(description="Start of a free MHP slot at the practice (timezone-aware).")
    minutes: Literal[30, 60] = 30
    modality: Modality
    appointment_type: AppointmentType = AppointmentType.INITIAL_ASSESSMENT
    appointment_id: uuid.UUID | None = Field(
        default=None, description="The practice's id; made up if absent."
    )
    call_id: uuid.UUID | None = None
    correlation_id: uuid.UUID | None = None


class AppointmentView(BaseModel):
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

    @classmethod
    def of(cls, a: Appointment) -> AppointmentView:
        return cls.model_validate(a, from_attributes=True)


class CancelAppointmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cancelled_by: CancelledBy
    late: bool = False


class WaitlistView(BaseModel):
    entry_id: uuid.UUID
    call_id: uuid.UUID
    practice_ods: str
    respond_by: datetime
    modality: str | None
    minutes: int
    created_at: datetime


class CapRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekly_direct_bookings: int = Field(ge=0, le=1000)


class RefusalView(BaseModel):
    appointment_id: uuid.UUID
    practice_ods: str
    reason: str
    refused_at: datetime


class CountView(BaseModel):
    pcn_code: str
    appointment_type: str
    count: int


def _session_view(s: RotaSession) -> SessionView:
    return SessionView(
        session_id=s.session_id,
        pcn_code=s.pcn_code,
        practice_ods=s.practice_ods,
        session_date=s.session_date,
        period=s.period,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        clinician=s.clinician,
        modalities=s.modalities.split(","),
        room=s.room,
        status=s.status,
    )


def build_router(db: Database, ctx: BookingContext) -> APIRouter:
    router = APIRouter(tags=["booking"])

    @router.post("/rota", response_model=RotaResponse, status_code=201)
    async def post_rota(body: RotaRequest) -> RotaResponse:
        """Load MHP sessions; one already on the rota (same practice, date, period) is kept as it is."""
        async with db.transaction() as session:
            created, existing = await schedule_sessions(session, body.sessions)
        return RotaResponse(
            created=len(created), already_on_rota=existing, session_ids=[s.session_id for s in created]
        )

    @router.get("/sessions", response_model=list[SessionView])
    async def get_sessions(
        pcn: Annotated[PcnCode, Query(description="PCN code")],
        practice: Annotated[PracticeOds | None, Query()] = None,
        from_date: Annotated[date | None, Query(alias="from")] = None,
        to_date: Annotated[date | None, Query(alias="to")] = None,
    ) -> list[SessionView]:
        query = select(RotaSession).where(RotaSession.pcn_code == pcn)
        if practice:
            query = query.where(RotaSession.practice_ods == practice)
        if from_date:
            query = query.where(col(RotaSession.session_date) >= from_date)
        if to_date:
            query = query.where(col(RotaSession.session_date) <= to_date)
        async with db.read() as session:
            rows = (await session.exec(query.order_by(col(RotaSession.starts_at)).limit(1000))).all()
        return [_session_view(s) for s in rows]

    @router.post("/sessions/{session_id}/cancel", response_model=CancelSessionResponse)
    async def post_cancel_session(session_id: uuid.UUID, body: CancelSessionRequest) -> CancelSessionResponse:
        """Cancel a session: each appointment in it is rebooked, or waitlisted and escalated."""
        try:
            async with db.transaction() as session:
                outcomes = await cancel_session(session, ctx, session_id, body.reason)
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None
        rebooked = sum(isinstance(o, Appointment) for o in outcomes)
        return CancelSessionResponse(
            session_id=session_id, rebooked=rebooked, waitlisted=len(outcomes) - rebooked
        )

    @router.get("/slots", response_model=list[SlotView])
    async def get_slots(
        pcn: Annotated[PcnCode, Query()],
        practice: Annotated[PracticeOds | None, Query()] = None,
        status: Annotated[Literal["free", "booked", "cancelled"] | None, Query()] = "free",
        start_from: Annotated[UtcDatetime | None, Query(alias="from")] = None,
        start_to: Annotated[UtcDatetime | None, Query(alias="to")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[SlotView]:
        query = select(Slot).where(Slot.pcn_code == pcn, Slot.kind == domain.CLINICAL)
        if practice:
            query = query.where(Slot.practice_ods == practice)
        if status:
            query = query.where(Slot.status == status)
        if start_from:
            query = query.where(col(Slot.starts_at) >= start_from)
        if start_to:
            query = query.where(col(Slot.starts_at) < start_to)
        async with db.read() as session:
            rows = (await session.exec(query.order_by(col(Slot.starts_at)).limit(limit))).all()
        return [SlotView.model_validate(s, from_attributes=True) for s in rows]

    @router.post("/appointments", response_model=AppointmentView, status_code=201)
    async def post_appointment(body: DirectBookingRequest) -> AppointmentView:
        """A practice books a patient straight in; 409 names the reason when the cap or the slot says no."""
        request = DirectBooking(
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
            async with db.transaction() as session:
                appointment = await direct_book(session, ctx, request, announce=True, cause=None)
        except DirectBookingRefused as refused:
            raise HTTPException(409, detail=refused.reason) from None
        except (SlotTaken, IntegrityError):
            # Another booking took the slot between our check and our claim (two replicas or processes).
            raise HTTPException(409, detail=SLOT_JUST_TAKEN) from None
        return AppointmentView.of(appointment)

    @router.get("/appointments/{appointment_id}", response_model=AppointmentView)
    async def get_appointment(appointment_id: uuid.UUID) -> AppointmentView:
        async with db.read() as session:
            appointment = await session.get(Appointment, appointment_id)
        if appointment is None:
            raise HTTPException(404, detail=f"no appointment {appointment_id}")
        return AppointmentView.of(appointment)

    @router.post("/appointments/{appointment_id}/cancel", response_model=AppointmentView)
    async def post_cancel_appointment(
        appointment_id: uuid.UUID, body: CancelAppointmentRequest
    ) -> AppointmentView:
        async with db.transaction() as session:
            appointment = await session.get(Appointment, appointment_id)
            if appointment is None:
                raise HTTPException(404, detail=f"no appointment {appointment_id}")
            if appointment.status != "booked":
                raise HTTPException(409, detail=f"appointment is {appointment.status}, not booked")
            await release_appointment(
                session, appointment, by=body.cancelled_by, late=body.late, announce=True, cause=None
            )
            await offer_to_waitlist(session, ctx, appointment.pcn_code, cause=None)
        return AppointmentView.of(appointment)

    @router.get("/waitlist", response_model=list[WaitlistView])
    async def get_waitlist(pcn: Annotated[PcnCode, Query()]) -> list[WaitlistView]:
        """Cases waiting for a slot, earliest deadline first."""
        query = (
            select(WaitlistEntry)
            .where(WaitlistEntry.pcn_code == pcn, WaitlistEntry.status == "waiting")
            .order_by(col(WaitlistEntry.respond_by))
        )
        async with db.read() as session:
            rows = (await session.exec(query)).all()
        return [WaitlistView.model_validate(e, from_attributes=True) for e in rows]

    @router.get("/attendance-review", response_model=list[AppointmentView])
    async def get_attendance_review(pcn: Annotated[PcnCode | None, Query()] = None) -> list[AppointmentView]:
        """Appointments still 'booked' well after their end: record attended or DNA; nothing is guessed."""
        async with db.read() as session:
            rows = await review_query(session, ctx, pcn_code=pcn)
        return [AppointmentView.of(a) for a in rows]

    @router.put("/practices/{practice_ods}/direct-booking-cap", response_model=CapRequest)
    async def put_cap(practice_ods: PracticeOds, body: CapRequest) -> CapRequest:
        async with db.transaction() as session:
            cap = await session.get(PracticeCap, practice_ods)
            if cap is None:
                cap = PracticeCap(
                    practice_ods=practice_ods, weekly_direct_bookings=body.weekly_direct_bookings
                )
            cap.weekly_direct_bookings = body.weekly_direct_bookings
            session.add(cap)
        return body

    @router.get("/direct-booking-refusals", response_model=list[RefusalView])
    async def get_refusals(practice: Annotated[PracticeOds, Query()]) -> list[RefusalView]:
        query = select(DirectBookingRefusal).where(DirectBookingRefusal.practice_ods == practice)
        async with db.read() as session:
            rows = (await session.exec(query.order_by(col(DirectBookingRefusal.refused_at)))).all()
        return [RefusalView.model_validate(r, from_attributes=True) for r in rows]

    @router.get("/counts/prescription-slots", response_model=CountView)
    async def get_prescription_count(
        pcn: Annotated[PcnCode, Query()],
        start_from: Annotated[UtcDatetime | None, Query(alias="from")] = None,
        start_to: Annotated[UtcDatetime | None, Query(alias="to")] = None,
    ) -> CountView:
        """Prescription slots booked (not cancelled) for a PCN, for the monthly return."""
        query = (
            select(func.count())
            .select_from(Appointment)
            .where(
                Appointment.pcn_code == pcn,
                Appointment.appointment_type == AppointmentType.PRESCRIPTION.value,
                Appointment.status != "cancelled",
            )
        )
        if start_from:
            query = query.where(col(Appointment.starts_at) >= start_from)
        if start_to:
            query = query.where(col(Appointment.starts_at) < start_to)
        async with db.read() as session:
            count = (await session.exec(query)).one()
        return CountView(pcn_code=pcn, appointment_type=AppointmentType.PRESCRIPTION.value, count=count)

    return router
