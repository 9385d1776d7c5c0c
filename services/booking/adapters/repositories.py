"""Appointments, the waitlist, caps and refusals over one SQL session."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import col, func, select

from services.booking.adapters import mapping, tables
from services.booking.adapters.rota_repositories import SqlRepository
from services.booking.domain.appointment import Appointment, AppointmentStatus
from services.booking.domain.direct_booking import Refusal
from services.booking.domain.urgency import Urgency
from services.booking.domain.waitlist import WaitlistEntry, WaitlistStatus
from shared.contracts.codes import AppointmentType, BookedBy

BOOKED = AppointmentStatus.BOOKED.value
CANCELLED = AppointmentStatus.CANCELLED.value


class SqlAppointments(SqlRepository):
    async def get(self, appointment_id: uuid.UUID) -> Appointment | None:
        row = await self.session.get(tables.Appointment, appointment_id)
        return await self._of(row) if row is not None else None

    async def _of(self, row: tables.Appointment) -> Appointment:
        claims = select(tables.AppointmentSlot.slot_id).where(
            tables.AppointmentSlot.appointment_id == row.appointment_id
        )
        slot_ids = (await self.session.exec(claims.order_by(col(tables.AppointmentSlot.id)))).all()
        return mapping.appointment_of(row, tuple(slot_ids))

    async def _all(self, query: Any) -> list[Appointment]:
        return [await self._of(row) for row in (await self.session.exec(query)).all()]

    async def add(self, appointment: Appointment) -> None:
        self.session.add(mapping.appointment_row(appointment))
        await self.session.flush()
        for slot_id in appointment.slot_ids:
            self.session.add(
                tables.AppointmentSlot(appointment_id=appointment.appointment_id, slot_id=slot_id)
            )
        await self.session.flush()

    async def save(self, appointment: Appointment) -> None:
        row = await self.session.get(tables.Appointment, appointment.appointment_id)
        assert row is not None
        mapping.update_appointment_row(row, appointment)
        self.session.add(row)
        await self.session.flush()

    async def release_claims(self, appointment_id: uuid.UUID) -> list[uuid.UUID]:
        claims = (
            await self.session.exec(
                select(tables.AppointmentSlot).where(
                    (col(tables.AppointmentSlot.appointment_id) == appointment_id)
                    & (col(tables.AppointmentSlot.live))
                )
            )
        ).all()
        for claim in claims:
            claim.live = False
            self.session.add(claim)
        return [claim.slot_id for claim in claims]

    async def live_initial_for_call(self, call_id: uuid.UUID) -> Appointment | None:
        a = tables.Appointment
        query = select(a).where(
            (a.call_id == call_id)
            & (a.status == BOOKED)
            & (a.appointment_type == AppointmentType.INITIAL_ASSESSMENT.value)
        )
        found = await self._all(query)
        return found[0] if found else None

    async def booked_in_session(self, session_id: uuid.UUID) -> list[Appointment]:
        a = tables.Appointment
        query = (
            select(a).where((a.session_id == session_id) & (a.status == BOOKED)).order_by(col(a.starts_at))
        )
        return await self._all(query)

    async def count_direct_in_week(self, practice_ods: str, week_start: datetime, week_end: datetime) -> int:
        a = tables.Appointment
        query = (
            select(func.count())
            .select_from(a)
            .where(
                (col(a.practice_ods) == practice_ods)
                & (a.booked_by == BookedBy.PRACTICE_DIRECT.value)
                & (col(a.starts_at) >= week_start)
                & (col(a.starts_at) < week_end)
                & (a.status != CANCELLED)
            )
        )
        return int((await self.session.exec(query)).one())

    async def booked_ended_by(
        self,
        cutoff: datetime,
        pcn_code: str | None,
        *,
        home_practice_ods: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Appointment]:
        a = tables.Appointment
        query = select(a).where(col(a.status) == BOOKED, col(a.ends_at) <= cutoff)
        if pcn_code is not None:
            query = query.where(a.pcn_code == pcn_code)
        if home_practice_ods is not None:
            query = query.where(a.home_practice_ods == home_practice_ods)
        query = query.order_by(col(a.ends_at), col(a.appointment_id)).offset(offset).limit(limit)
        return await self._all(query)

    async def count_not_cancelled(
        self,
        pcn_code: str,
        appointment_type: AppointmentType,
        starts_from: datetime | None,
        starts_to: datetime | None,
        *,
        home_practice_ods: str | None = None,
    ) -> int:
        a = tables.Appointment
        query = (
            select(func.count())
            .select_from(a)
            .where(
                a.pcn_code == pcn_code, a.appointment_type == appointment_type.value, a.status != CANCELLED
            )
        )
        if home_practice_ods is not None:
            query = query.where(a.home_practice_ods == home_practice_ods)
        if starts_from:
            query = query.where(col(a.starts_at) >= starts_from)
        if starts_to:
            query = query.where(col(a.starts_at) < starts_to)
        return int((await self.session.exec(query)).one())

    async def count_urgent_booked_since(self, pcn_code: str, since: datetime) -> int:
        a = tables.Appointment
        query = (
            select(func.count())
            .select_from(a)
            .where(
                a.pcn_code == pcn_code,
                a.urgency == Urgency.URGENT.value,
                col(a.created_at) >= since,
                a.status != CANCELLED,
            )
        )
        return int((await self.session.exec(query)).one())


class SqlWaitlist(SqlRepository):
    async def add(self, entry: WaitlistEntry) -> None:
        self.session.add(mapping.entry_row(entry))

    async def save(self, entry: WaitlistEntry) -> None:
        row = await self.session.get(tables.WaitlistEntry, entry.entry_id)
        assert row is not None
        row.status, row.appointment_id = entry.status.value, entry.appointment_id
        self.session.add(row)
        await self.session.flush()

    async def waiting_for_call(self, call_id: uuid.UUID) -> WaitlistEntry | None:
        w = tables.WaitlistEntry
        query = select(w).where((w.call_id == call_id) & (w.status == WaitlistStatus.WAITING.value))
        row = (await self.session.exec(query)).first()
        return mapping.entry_of(row) if row is not None else None

    async def waiting_in(
        self,
        pcn_code: str,
        limit: int | None = None,
        *,
        practice_ods: str | None = None,
        offset: int = 0,
    ) -> list[WaitlistEntry]:
        w = tables.WaitlistEntry
        query = select(w).where((w.pcn_code == pcn_code) & (w.status == WaitlistStatus.WAITING.value))
        if practice_ods is not None:
            query = query.where(w.practice_ods == practice_ods)
        query = (
            query.order_by(col(w.respond_by), col(w.created_at), col(w.entry_id))  # as waitlist.by_deadline
            .offset(offset)
            .limit(limit)
        )
        return [mapping.entry_of(r) for r in (await self.session.exec(query)).all()]

    async def count_urgent_waiting(self, pcn_code: str, *, created_since: datetime | None = None) -> int:
        w = tables.WaitlistEntry
        query = (
            select(func.count())
            .select_from(w)
            .where(
                w.pcn_code == pcn_code,
                w.status == WaitlistStatus.WAITING.value,
                w.urgency == Urgency.URGENT.value,
            )
        )
        if created_since is not None:
            query = query.where(col(w.created_at) >= created_since)
        return int((await self.session.exec(query)).one())


class SqlCaps(SqlRepository):
    async def get(self, practice_ods: str) -> int | None:
        cap = await self.session.get(tables.PracticeCap, practice_ods)
        return cap.weekly_direct_bookings if cap is not None else None

    async def set(self, practice_ods: str, weekly_direct_bookings: int) -> None:
        cap = await self.session.get(tables.PracticeCap, practice_ods)
        if cap is None:
            cap = tables.PracticeCap(practice_ods=practice_ods, weekly_direct_bookings=weekly_direct_bookings)
        cap.weekly_direct_bookings = weekly_direct_bookings
        self.session.add(cap)


class SqlRefusals(SqlRepository):
    async def is_refused(self, appointment_id: uuid.UUID) -> bool:
        return await self.session.get(tables.DirectBookingRefusal, appointment_id) is not None

    async def add(self, refusal: Refusal) -> None:
        self.session.add(
            tables.DirectBookingRefusal(
                appointment_id=refusal.appointment_id,
                practice_ods=refusal.practice_ods,
                reason=refusal.reason,
                refused_at=refusal.refused_at,
            )
        )

    async def for_practice(
        self, practice_ods: str, *, offset: int = 0, limit: int | None = None
    ) -> list[Refusal]:
        r = tables.DirectBookingRefusal
        query = (
            select(r)
            .where(r.practice_ods == practice_ods)
            .order_by(col(r.refused_at), col(r.appointment_id))
            .offset(offset)
            .limit(limit)
        )
        return [mapping.refusal_of(row) for row in (await self.session.exec(query)).all()]
