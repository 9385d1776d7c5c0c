"""Booking HTTP API, the rota side: rota, sessions, slots, direct-booking caps, refusals, counts.

Each route asks for its action (403) and its organisation (404), translates its request into a command
or query and the answer back; no rule lives here. Appointments are in `http_appointments.py`.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from services.booking.adapters.unit_of_work import SqlBookingUnitOfWork
from services.booking.application import queries
from services.booking.application.access import POLICY, Action, sees_session
from services.booking.application.commands import CancelSession, LoadRota, SetDirectBookingCap
from services.booking.application.context import BookingContext
from services.booking.application.handlers.rota import (
    SessionNotFound,
    cancel_session,
    load_rota,
    set_direct_booking_cap,
)
from services.booking.application.unit_of_work import SlotFilter
from services.booking.domain.appointment import Appointment
from services.booking.domain.rota import SessionOutsideRotaWindow, SlotStatus
from services.booking.entrypoints.http_models import (
    CancelSessionRequest,
    CancelSessionResponse,
    CapRequest,
    CountView,
    RefusalView,
    RotaRequest,
    RotaResponse,
    SessionView,
    SlotView,
)
from services.booking.entrypoints.scope import (
    Directory,
    appointment_record,
    list_scope,
    require_practice,
)
from shared.audit import AuditAction
from shared.contracts.codes import AppointmentType
from shared.contracts.envelope import PcnCode, PracticeOds
from shared.contracts.text import Instant
from shared.db import Database
from shared.http.paging import Page, page_of
from shared.identity.policy import not_found
from shared.identity.principal import Principal


def build_router(db: Database, ctx: BookingContext) -> APIRouter:
    router = APIRouter(tags=["booking"])
    begin, reading = SqlBookingUnitOfWork.begin, SqlBookingUnitOfWork.reading

    @router.post("/rota", response_model=RotaResponse, status_code=201)
    async def post_rota(
        body: RotaRequest,
        principal: Annotated[Principal, Depends(POLICY.requires(Action.LOAD_ROTA))],
        directory: Directory,
    ) -> RotaResponse:
        """Load MHP sessions of the manager's PCN; one already on the rota is kept as it is.

        Each row's `clinician` is the MHP who works the session (data, not the caller).
        """
        for row in body.sessions:
            require_practice(principal, directory, row.practice_ods, row.pcn_code)
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
        request: Request,
        response: Response,
        principal: Annotated[Principal, Depends(POLICY.requires(Action.READ_SESSIONS))],
        directory: Directory,
        page: Page,
        pcn: Annotated[PcnCode, Query(description="PCN code")],
        practice: Annotated[PracticeOds | None, Query(description="Required of practice roles")] = None,
        from_date: Annotated[date | None, Query(alias="from")] = None,
        to_date: Annotated[date | None, Query(alias="to")] = None,
    ) -> list[SessionView]:
        practice = list_scope(principal, directory, pcn, practice)
        async with reading(db) as uow:
            rows = await queries.sessions(
                uow, pcn, practice, from_date, to_date, offset=page.offset, limit=page.fetch
            )
        return [SessionView.of(s) for s in page_of(rows, page, request, response)]

    @router.post("/sessions/{session_id}/cancel", response_model=CancelSessionResponse)
    async def post_cancel_session(
        session_id: uuid.UUID,
        body: CancelSessionRequest,
        principal: Annotated[Principal, Depends(POLICY.requires(Action.CANCEL_SESSION))],
    ) -> CancelSessionResponse:
        """Cancel a session: each appointment in it is rebooked, or waitlisted and escalated."""
        try:
            async with begin(db) as uow:
                session = await uow.sessions.get(session_id)
                if session is None or not sees_session(principal, session):
                    raise SessionNotFound("not found")
                command = CancelSession(session_id, body.reason_code, body.reason)
                done = await cancel_session(command, uow, ctx)
                for cancelled in done.cancelled:  # each a patient's appointment, changed by the manager
                    uow.audit(appointment_record(principal, cancelled, "session.cancel", AuditAction.UPDATE))
        except SessionNotFound:
            raise not_found() from None
        rebooked = sum(isinstance(o, Appointment) for o in done.outcomes)
        return CancelSessionResponse(
            session_id=session_id, rebooked=rebooked, waitlisted=len(done.outcomes) - rebooked
        )

    @router.get("/slots", response_model=list[SlotView])
    async def get_slots(
        request: Request,
        response: Response,
        principal: Annotated[Principal, Depends(POLICY.requires(Action.SEARCH_SLOTS))],
        directory: Directory,
        page: Page,
        pcn: Annotated[PcnCode, Query()],
        practice: Annotated[PracticeOds | None, Query(description="Required of practice roles")] = None,
        status: Annotated[SlotStatus | None, Query()] = SlotStatus.FREE,
        start_from: Annotated[Instant | None, Query(alias="from", description="Default: now")] = None,
        start_to: Annotated[Instant | None, Query(alias="to", description="At most 62 days on")] = None,
    ) -> list[SlotView]:
        practice = list_scope(principal, directory, pcn, practice)
        try:
            low, high = queries.slot_window(start_from, start_to, ctx.clock())
        except queries.SlotWindowTooWide as exc:
            raise HTTPException(422, detail=exc.reason) from None
        where = SlotFilter(
            pcn_code=pcn,
            practice_ods=practice,
            status=status,
            starts_from=low,
            starts_to=high,
            limit=page.fetch,
            offset=page.offset,
        )
        async with reading(db) as uow:
            rows = await queries.slots(uow, where)
        return [SlotView.of(s) for s in page_of(rows, page, request, response)]

    @router.put("/practices/{practice_ods}/direct-booking-cap", response_model=CapRequest)
    async def put_cap(
        practice_ods: PracticeOds,
        body: CapRequest,
        principal: Annotated[Principal, Depends(POLICY.requires(Action.SET_CAP))],
        directory: Directory,
    ) -> CapRequest:
        require_practice(principal, directory, practice_ods)
        async with begin(db) as uow:
            await set_direct_booking_cap(
                SetDirectBookingCap(practice_ods, body.weekly_direct_bookings), uow, ctx
            )
        return body

    @router.get("/direct-booking-refusals", response_model=list[RefusalView])
    async def get_refusals(
        request: Request,
        response: Response,
        principal: Annotated[Principal, Depends(POLICY.requires(Action.READ_REFUSALS))],
        directory: Directory,
        page: Page,
        practice: Annotated[PracticeOds, Query()],
    ) -> list[RefusalView]:
        require_practice(principal, directory, practice)
        async with reading(db) as uow:
            rows = await queries.refusals(uow, practice, offset=page.offset, limit=page.fetch)
        return [RefusalView.of(r) for r in page_of(rows, page, request, response)]

    @router.get("/counts/prescription-slots", response_model=CountView)
    async def get_prescription_count(
        principal: Annotated[Principal, Depends(POLICY.requires(Action.COUNT_PRESCRIPTIONS))],
        directory: Directory,
        pcn: Annotated[PcnCode, Query()],
        practice: Annotated[PracticeOds | None, Query(description="Required of practice roles")] = None,
        start_from: Annotated[Instant | None, Query(alias="from")] = None,
        start_to: Annotated[Instant | None, Query(alias="to")] = None,
    ) -> CountView:
        """Prescription slots booked (not cancelled) for a PCN, or its practice's patients, for the return."""
        practice = list_scope(principal, directory, pcn, practice)
        async with reading(db) as uow:
            count = await queries.prescription_slots(uow, pcn, start_from, start_to, practice)
        return CountView(
            pcn_code=pcn,
            practice_ods=practice,
            appointment_type=AppointmentType.PRESCRIPTION.value,
            count=count,
        )

    return router
