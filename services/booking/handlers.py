"""Booking's use cases: load the rota, book by risk, direct bookings, cancellations, attendance, follow-ups.

Every function runs inside the caller's unit of work and stages its events in the outbox there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import aliased
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.booking import domain
from services.booking.models import (
    Appointment,
    AppointmentSlot,
    DirectBookingRefusal,
    PracticeCap,
    RotaSession,
    Slot,
    WaitlistEntry,
)
from shared.contracts.codes import (
    APPOINTMENT_DISPOSITIONS,
    AppointmentType,
    AttendanceStatus,
    BookedBy,
    CancelledBy,
    EscalationReason,
    EscalationTarget,
    Modality,
    NextStep,
)
from shared.contracts.envelope import Envelope
from shared.contracts.v1 import (
    AppointmentAttended,
    AppointmentBooked,
    AppointmentBookedData,
    AppointmentCancelled,
    AppointmentCancelledData,
    AppointmentDna,
    AppointmentWaitlisted,
    AppointmentWaitlistedData,
    CallTriaged,
    CaseEscalated,
    CaseEscalatedData,
    SessionCancelled,
    SessionCancelledData,
    SessionScheduled,
    SessionScheduledData,
)
from shared.db import utcnow
from shared.logging import get_logger
from shared.messaging.consumer import PermanentFailure
from shared.messaging.outbox import add_event

log = get_logger(__name__)

SERVICE = "booking"


@dataclass(frozen=True)
class BookingContext:
    clock: Callable[[], datetime] = field(default=utcnow)
    direct_bookings_per_week: int = 10
    attendance_review_after: timedelta = timedelta(hours=2)
    rebook_window: timedelta = timedelta(days=7)


class NotFound(LookupError):
    pass


class SlotTaken(RuntimeError):
    """Another unit of work claimed the slot first; retrying the whole unit of work is safe."""


SLOT_JUST_TAKEN = "the slot was booked by someone else a moment ago: search free slots again and pick another"


class DirectBookingRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def producer_for(pcn_code: str) -> str:
    """Booking is owned by the PCN: its events are produced as `<PCN code>/booking`."""
    return f"{pcn_code}/{SERVICE}"


def is_own(event: Envelope[Any]) -> bool:
    # Exactly this PCN's booking service: a practice system naming itself ".../booking" is not us.
    return event.producer == producer_for(event.pcn_code)


# --- rota --------------------------------------------------------------------------------------


async def schedule_sessions(
    session: AsyncSession, entries: Sequence[domain.RotaEntry]
) -> tuple[list[RotaSession], int]:
    """Create sessions and their slots; a session already on the rota is left as it is (reloads are safe).

    Returns the sessions created and how many were already there.
    """
    created: list[RotaSession] = []
    existing = 0
    for entry in entries:
        found = await session.exec(
            select(RotaSession.session_id).where(
                (RotaSession.practice_ods == entry.practice_ods)
                & (RotaSession.session_date == entry.session_date)
                & (RotaSession.period == entry.period.value)
            )
        )
        if found.first() is not None:
            existing += 1
            continue
        starts_at, ends_at = domain.session_bounds(entry.session_date, entry.period)
        rota_session = RotaSession(
            session_id=uuid.uuid4(),
            pcn_code=entry.pcn_code,
            practice_ods=entry.practice_ods,
            session_date=entry.session_date,
            period=entry.period.value,
            starts_at=starts_at,
            ends_at=ends_at,
            clinician=entry.clinician,
            modalities=",".join(m.value for m in entry.modalities),
            room=entry.room,
        )
        session.add(rota_session)
        for plan in domain.plan_slots(entry):
            session.add(
                Slot(
                    slot_id=uuid.uuid4(),
                    session_id=rota_session.session_id,
                    pcn_code=entry.pcn_code,
                    practice_ods=entry.practice_ods,
                    seq=plan.seq,
                    starts_at=plan.starts_at,
                    ends_at=plan.ends_at,
                    kind=plan.kind,
                    modality=plan.modality.value if plan.modality else None,
                )
            )
        add_event(
            session,
            SessionScheduled.create(
                SessionScheduledData(
                    session_id=rota_session.session_id,
                    session_date=entry.session_date,
                    period=entry.period,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    modalities=entry.modalities,
                    room=entry.room,
                    clinician=entry.clinician,
                ),
                producer=producer_for(entry.pcn_code),
                pcn_code=entry.pcn_code,
                practice_ods=entry.practice_ods,
                # A session is no patient's episode: it is its own correlation.
                correlation_id=rota_session.session_id,
            ),
        )
        created.append(rota_session)
    return created, existing


async def cancel_session(
    session: AsyncSession, ctx: BookingContext, session_id: uuid.UUID, reason: str | None
) -> list[Appointment | WaitlistEntry]:
    """Cancel a session: its appointments are rebooked, or waitlisted and escalated past a deadline."""
    rota_session = await session.get(RotaSession, session_id)
    if rota_session is None:
        raise NotFound(f"no session {session_id} on the rota")
    if rota_session.status == "cancelled":
        return []
    rota_session.status = "cancelled"
    session.add(rota_session)
    await session.exec(update(Slot).where(col(Slot.session_id) == session_id).values(status="cancelled"))
    cancelled_event = SessionCancelled.create(
        SessionCancelledData(session_id=session_id, reason=reason),
        producer=producer_for(rota_session.pcn_code),
        pcn_code=rota_session.pcn_code,
        practice_ods=rota_session.practice_ods,
        correlation_id=session_id,
    )
    add_event(session, cancelled_event)
    appointments = (
        await session.exec(
            select(Appointment)
            .where((Appointment.session_id == session_id) & (Appointment.status == "booked"))
            .order_by(col(Appointment.starts_at))
        )
    ).all()
    outcomes: list[Appointment | WaitlistEntry] = []
    for appointment in appointments:
        await release_appointment(
            session, appointment, by=CancelledBy.PROVIDER, late=False, announce=True, cause=cancelled_event
        )
        deadline = appointment.respond_by or appointment.starts_at + ctx.rebook_window
        outcome = await book_or_waitlist(
            session,
            ctx,
            Request(
                call_id=appointment.call_id,
                correlation_id=appointment.correlation_id,
                pcn_code=appointment.pcn_code,
                home_practice_ods=appointment.home_practice_ods,
                respond_by=deadline,
                modality=Modality(appointment.modality),
                minutes=appointment.minutes,
                appointment_type=AppointmentType(appointment.appointment_type),
                booked_by=BookedBy(appointment.booked_by),
                deadline_is_clinical=appointment.respond_by is not None,
                replaces=appointment.appointment_id,
            ),
            cause=cancelled_event,
        )
        outcomes.append(outcome)
    return outcomes


# --- the earliest-slot search ------------------------------------------------------------------


async def find_slots(
    session: AsyncSession,
    *,
    pcn_code: str,
    practice_ods: str | None,
    modality: Modality | None,
    minutes: int,
    not_before: datetime,
    starts_before: datetime | None,
    session_id: uuid.UUID | None = None,
) -> list[Slot] | None:
    """The earliest free clinical slot(s) that fit: one slot, or two adjacent ones of one session.

    Filters on (practice or PCN, status) and orders by start, so the composite index answers it.
    """
    first = aliased(Slot)
    conditions: list[Any] = [
        first.status == "free",
        first.kind == domain.CLINICAL,
        first.starts_at >= not_before,
        first.practice_ods == practice_ods if practice_ods is not None else first.pcn_code == pcn_code,
    ]
    if starts_before is not None:
        conditions.append(first.starts_at < starts_before)
    if modality is not None:
        conditions.append(first.modality == modality.value)
    if session_id is not None:
        conditions.append(first.session_id == session_id)
    if domain.slots_needed(minutes) == 1:
        query = select(first).where(*conditions).order_by(col(first.starts_at)).limit(1)
        found = (await session.exec(query)).first()
        return [found] if found is not None else None
    second = aliased(Slot)
    pair_query = (
        select(first, second)
        .join(
            second,
            (col(second.session_id) == first.session_id)
            & (col(second.seq) == first.seq + 1)
            & (col(second.status) == "free")
            & (col(second.kind) == domain.CLINICAL),
        )
        .where(*conditions)
        .order_by(col(first.starts_at))
        .limit(1)
    )
    pair = (await session.exec(pair_query)).first()
    return [pair[0], pair[1]] if pair is not None else None


# --- booking -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    call_id: uuid.UUID | None
    correlation_id: uuid.UUID
    pcn_code: str
    home_practice_ods: str
    respond_by: datetime
    modality: Modality | None
    minutes: int
    appointment_type: AppointmentType = AppointmentType.INITIAL_ASSESSMENT
    booked_by: BookedBy = BookedBy.MHP_SERVICE
    deadline_is_clinical: bool = True
    replaces: uuid.UUID | None = None  # the cancelled appointment being rebooked, if any


async def claim_slots(
    session: AsyncSession,
    slots: Sequence[Slot],
    *,
    appointment_id: uuid.UUID,
    correlation_id: uuid.UUID,
    call_id: uuid.UUID | None,
    home_practice_ods: str,
    modality: Modality,
    minutes: int,
    appointment_type: AppointmentType,
    booked_by: BookedBy,
    respond_by: datetime | None,
    now: datetime,
) -> Appointment:
    """Create the appointment and claim its slots; the live-claim unique index is the final guard."""
    for slot in slots:
        # Compare-and-set: on PostgreSQL a concurrent claimant blocks here, then sees 'booked'.
        result = await session.exec(
            update(Slot)
            .where((col(Slot.slot_id) == slot.slot_id) & (col(Slot.status) == "free"))
            .values(status="booked")
        )
        if result.rowcount != 1:
            raise SlotTaken("slot already claimed")
    appointment = Appointment(
        appointment_id=appointment_id,
        correlation_id=correlation_id,
        call_id=call_id,
        pcn_code=slots[0].pcn_code,
        practice_ods=slots[0].practice_ods,
        home_practice_ods=home_practice_ods,
        session_id=slots[0].session_id,
        starts_at=slots[0].starts_at,
        ends_at=slots[-1].ends_at,
        minutes=minutes,
        modality=modality.value,
        appointment_type=appointment_type.value,
        booked_by=booked_by.value,
        respond_by=respond_by,
        created_at=now,
    )
    session.add(appointment)
    await session.flush()
    for slot in slots:
        session.add(AppointmentSlot(appointment_id=appointment_id, slot_id=slot.slot_id))
    await session.flush()
    return appointment


def _booked_event(appointment: Appointment, cause: Envelope[Any] | None) -> AppointmentBooked:
    return AppointmentBooked.create(
        AppointmentBookedData(
            appointment_id=appointment.appointment_id,
            call_id=appointment.call_id,
            session_id=appointment.session_id,
            starts_at=appointment.starts_at,
            minutes=appointment.minutes,
            modality=Modality(appointment.modality),
            appointment_type=AppointmentType(appointment.appointment_type),
            booked_by=BookedBy(appointment.booked_by),
            respond_by=appointment.respond_by,
        ),
        producer=producer_for(appointment.pcn_code),
        pcn_code=appointment.pcn_code,
        practice_ods=appointment.home_practice_ods,
        correlation_id=appointment.correlation_id,
        causation_id=cause.event_id if cause else None,
    )


async def book_or_waitlist(
    session: AsyncSession, ctx: BookingContext, request: Request, *, cause: Envelope[Any]
) -> Appointment | WaitlistEntry:
    """Book the earliest fitting slot before the deadline, home practice first; else waitlist and escalate."""
    now = ctx.clock()
    slots = None
    for practice in (request.home_practice_ods, None):
        slots = await find_slots(
            session,
            pcn_code=request.pcn_code,
            practice_ods=practice,
            modality=request.modality,
            minutes=request.minutes,
            not_before=now,
            starts_before=request.respond_by,
        )
        if slots:
            break
    if slots:
        appointment = await claim_slots(
            session,
            slots,
            appointment_id=uuid.uuid4(),
            correlation_id=request.correlation_id,
            call_id=request.call_id,
            home_practice_ods=request.home_practice_ods,
            modality=request.modality or Modality(slots[0].modality or Modality.TELEPHONE.value),
            minutes=request.minutes,
            appointment_type=request.appointment_type,
            booked_by=request.booked_by,
            respond_by=request.respond_by if request.deadline_is_clinical else None,
            now=now,
        )
        add_event(session, _booked_event(appointment, cause))
        log.info("appointment_booked", appointment_id=str(appointment.appointment_id))
        return appointment
    return await waitlist(session, ctx, request, cause=cause)


async def waitlist(
    session: AsyncSession, ctx: BookingContext, request: Request, *, cause: Envelope[Any]
) -> WaitlistEntry:
    """No slot inside the deadline: the case waits, visibly, and the practice's clinical lead is told."""
    entry = WaitlistEntry(
        entry_id=uuid.uuid4(),
        # A direct booking has no call: its waitlist entry is keyed by the cancelled appointment's id.
        call_id=request.call_id or request.replaces or uuid.uuid4(),
        correlation_id=request.correlation_id,
        cause_event_id=cause.event_id,
        pcn_code=request.pcn_code,
        practice_ods=request.home_practice_ods,
        respond_by=request.respond_by,
        modality=request.modality.value if request.modality else None,
        minutes=request.minutes,
        appointment_type=request.appointment_type.value,
        created_at=ctx.clock(),
    )
    session.add(entry)
    envelope: dict[str, Any] = {
        "producer": producer_for(request.pcn_code),
        "pcn_code": request.pcn_code,
        "practice_ods": request.home_practice_ods,
        "correlation_id": request.correlation_id,
        "causation_id": cause.event_id,
    }
    add_event(
        session,
        AppointmentWaitlisted.create(
            AppointmentWaitlistedData(
                call_id=entry.call_id,
                respond_by=request.respond_by,
                modality=request.modality,
                minutes=request.minutes,
            ),
            **envelope,
        ),
    )
    add_event(
        session,
        CaseEscalated.create(
            CaseEscalatedData(
                escalation_id=uuid.uuid4(),
                target=EscalationTarget.PRACTICE_CLINICAL_LEAD,
                reason=EscalationReason.APPOINTMENT_DEADLINE_AT_RISK,
                call_id=request.call_id,
                appointment_id=request.replaces,
                due_at=request.respond_by,
            ),
            **envelope,
        ),
    )
    log.info("appointment_waitlisted", entry_id=str(entry.entry_id))
    return entry


async def release_appointment(
    session: AsyncSession,
    appointment: Appointment,
    *,
    by: CancelledBy,
    late: bool,
    announce: bool,
    cause: Envelope[Any] | None,
) -> None:
    """Cancel an appointment and free its slots (unless their session is cancelled too)."""
    appointment.status = "cancelled"
    appointment.attendance = (
        AttendanceStatus.CANCELLED_BY_PATIENT
        if by is CancelledBy.PATIENT
        else AttendanceStatus.CANCELLED_BY_PROVIDER
    ).value
    appointment.cancelled_late = late
    session.add(appointment)
    claims = (
        await session.exec(
            select(AppointmentSlot).where(
                (col(AppointmentSlot.appointment_id) == appointment.appointment_id)
                & (col(AppointmentSlot.live))
            )
        )
    ).all()
    for claim in claims:
        claim.live = False
        session.add(claim)
        await session.exec(
            update(Slot)
            .where((col(Slot.slot_id) == claim.slot_id) & (col(Slot.status) == "booked"))
            .values(status="free")
        )
    await session.flush()
    if announce:
        add_event(
            session,
            AppointmentCancelled.create(
                AppointmentCancelledData(
                    appointment_id=appointment.appointment_id, cancelled_by=by, late=late
                ),
                producer=producer_for(appointment.pcn_code),
                pcn_code=appointment.pcn_code,
                practice_ods=appointment.home_practice_ods,
                correlation_id=appointment.correlation_id,
                causation_id=cause.event_id if cause else None,
            ),
        )


async def offer_to_waitlist(
    session: AsyncSession, ctx: BookingContext, pcn_code: str, *, cause: Envelope[Any] | None, limit: int = 50
) -> int:
    """Freed capacity goes to the waitlist first, earliest deadline first. Returns how many were booked."""
    now = ctx.clock()
    entries = (
        await session.exec(
            select(WaitlistEntry)
            .where((WaitlistEntry.pcn_code == pcn_code) & (WaitlistEntry.status == "waiting"))
            .order_by(col(WaitlistEntry.respond_by))
            .limit(limit)
        )
    ).all()
    booked = 0
    for entry in entries:
        modality = Modality(entry.modality) if entry.modality else None
        slots = None
        for practice in (entry.practice_ods, None):
            # A waitlisted case already missed its deadline's slots: any slot soonest is better than none.
            slots = await find_slots(
                session,
                pcn_code=pcn_code,
                practice_ods=practice,
                modality=modality,
                minutes=entry.minutes,
                not_before=now,
                starts_before=None,
            )
            if slots:
                break
        if not slots:
            continue
        appointment = await claim_slots(
            session,
            slots,
            appointment_id=uuid.uuid4(),
            correlation_id=entry.correlation_id,
            call_id=entry.call_id,
            home_practice_ods=entry.practice_ods,
            modality=modality or Modality(slots[0].modality or Modality.TELEPHONE.value),
            minutes=entry.minutes,
            appointment_type=AppointmentType(entry.appointment_type),
            booked_by=BookedBy.MHP_SERVICE,
            respond_by=entry.respond_by,
            now=now,
        )
        entry.status = "booked"
        entry.appointment_id = appointment.appointment_id
        session.add(entry)
        add_event(session, _booked_event(appointment, cause))
        booked += 1
    return booked


# --- consumers ---------------------------------------------------------------------------------


async def on_call_triaged(session: AsyncSession, event: CallTriaged, ctx: BookingContext) -> None:
    if is_own(event):
        return
    data = event.data
    live = (
        await session.exec(
            select(Appointment).where(
                (Appointment.call_id == data.call_id)
                & (Appointment.status == "booked")
                & (Appointment.appointment_type == AppointmentType.INITIAL_ASSESSMENT.value)
            )
        )
    ).first()
    waiting = (
        await session.exec(
            select(WaitlistEntry).where(
                (WaitlistEntry.call_id == data.call_id) & (WaitlistEntry.status == "waiting")
            )
        )
    ).first()
    if data.supersedes is None and (live is not None or waiting is not None):
        return  # the same decision re-sent under a new event id: one call, one booking
    # A re-triage replaces what the earlier decision booked.
    freed = False
    if live is not None:
        await release_appointment(
            session, live, by=CancelledBy.PROVIDER, late=False, announce=True, cause=event
        )
        freed = True
    if waiting is not None:
        waiting.status = "withdrawn"
        session.add(waiting)
        await session.flush()
    if data.disposition in APPOINTMENT_DISPOSITIONS:
        # The contract guarantees both for an appointment disposition.
        assert data.respond_by is not None
        assert data.appointment_minutes is not None
        await book_or_waitlist(
            session,
            ctx,
            Request(
                call_id=data.call_id,
                correlation_id=event.correlation_id,
                pcn_code=event.pcn_code,
                home_practice_ods=event.practice_ods,
                respond_by=data.respond_by,
                modality=data.modality,
                minutes=data.appointment_minutes,
            ),
            cause=event,
        )
    if freed:
        await offer_to_waitlist(session, ctx, event.pcn_code, cause=event)


async def on_practice_appointment_event(
    session: AsyncSession, event: Envelope[Any], ctx: BookingContext
) -> None:
    """Direct bookings, attendance and cancellations from practice systems (our own events are skipped)."""
    if is_own(event):
        return
    if isinstance(event, AppointmentBooked):
        await _on_direct_booking(session, event, ctx)
    elif isinstance(event, AppointmentAttended):
        await _on_attended(session, event, ctx)
    elif isinstance(event, AppointmentDna):
        appointment = await _appointment_for(session, event.data.appointment_id)
        if appointment.status in ("booked", "dna"):
            appointment.status = "dna"
            appointment.attendance = event.data.attendance.value
            session.add(appointment)
    elif isinstance(event, AppointmentCancelled):
        appointment = await _appointment_for(session, event.data.appointment_id)
        if appointment.status != "booked":
            return  # already cancelled (or attended): nothing to free
        await release_appointment(
            session,
            appointment,
            by=event.data.cancelled_by,
            late=event.data.late,
            announce=False,
            cause=event,
        )
        await offer_to_waitlist(session, ctx, appointment.pcn_code, cause=event)


class AppointmentNotKnownYet(LookupError):
    """A practice's outcome for an appointment booking has not seen (yet).

    Retried, not dead-lettered at once: the practice's own `appointment.booked` may still be on its way or
    waiting for a redelivery. The consumer's delivery limit bounds the retries and then dead-letters it
    with the reason.
    """


async def _appointment_for(session: AsyncSession, appointment_id: uuid.UUID) -> Appointment:
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None:
        raise AppointmentNotKnownYet("appointment_id is not known to booking")
    return appointment


async def _on_direct_booking(session: AsyncSession, event: AppointmentBooked, ctx: BookingContext) -> None:
    data = event.data
    if data.booked_by is not BookedBy.PRACTICE_DIRECT:
        raise PermanentFailure(
            "appointment.booked from a practice system must have booked_by=practice_direct"
        )
    try:
        await direct_book(
            session,
            ctx,
            DirectBooking(
                appointment_id=data.appointment_id,
                pcn_code=event.pcn_code,
                practice_ods=event.practice_ods,
                starts_at=data.starts_at,
                minutes=data.minutes,
                modality=data.modality,
                appointment_type=data.appointment_type,
                call_id=data.call_id,
                correlation_id=event.correlation_id,
            ),
            announce=False,
            cause=event,
        )
    except DirectBookingRefused as refused:
        # The practice is told by appointment.cancelled (by provider); the reason is kept for HTTP.
        session.add(
            DirectBookingRefusal(
                appointment_id=data.appointment_id,
                practice_ods=event.practice_ods,
                reason=refused.reason,
                refused_at=ctx.clock(),
            )
        )
        add_event(
            session,
            event.caused(
                AppointmentCancelled,
                AppointmentCancelledData(
                    appointment_id=data.appointment_id, cancelled_by=CancelledBy.PROVIDER
                ),
                producer=producer_for(event.pcn_code),
            ),
        )
        log.info("direct_booking_refused", reason=refused.reason)


@dataclass(frozen=True)
class DirectBooking:
    appointment_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    starts_at: datetime
    minutes: int
    modality: Modality
    appointment_type: AppointmentType
    call_id: uuid.UUID | None
    correlation_id: uuid.UUID


async def weekly_cap(session: AsyncSession, ctx: BookingContext, practice_ods: str) -> int:
    cap = await session.get(PracticeCap, practice_ods)
    return cap.weekly_direct_bookings if cap is not None else ctx.direct_bookings_per_week


async def direct_book(
    session: AsyncSession,
    ctx: BookingContext,
    request: DirectBooking,
    *,
    announce: bool,
    cause: Envelope[Any] | None,
) -> Appointment:
    """A practice books a patient straight into a slot, within its agreed weekly volume."""
    existing = await session.get(Appointment, request.appointment_id)
    if existing is not None:
        return existing  # the same booking re-sent
    if await session.get(DirectBookingRefusal, request.appointment_id) is not None:
        raise DirectBookingRefused("this appointment_id was already refused")
    week_start, week_end = domain.week_bounds(request.starts_at)
    used = (
        await session.exec(
            select(func.count())
            .select_from(Appointment)
            .where(
                (col(Appointment.practice_ods) == request.practice_ods)
                & (Appointment.booked_by == BookedBy.PRACTICE_DIRECT.value)
                & (col(Appointment.starts_at) >= week_start)
                & (col(Appointment.starts_at) < week_end)
                & (Appointment.status != "cancelled")
            )
        )
    ).one()
    cap = await weekly_cap(session, ctx, request.practice_ods)
    if used >= cap:
        raise DirectBookingRefused(
            f"weekly direct-booking cap reached: {used} of {cap} for practice {request.practice_ods} "
            f"in the week starting {week_start.astimezone(domain.LONDON).date().isoformat()}"
        )
    start = (
        await session.exec(
            select(Slot).where(
                (Slot.practice_ods == request.practice_ods) & (Slot.starts_at == request.starts_at)
            )
        )
    ).first()
    if start is None or start.kind != domain.CLINICAL:
        raise DirectBookingRefused("no MHP clinical slot starts at that time at this practice")
    slots = await find_slots(
        session,
        pcn_code=request.pcn_code,
        practice_ods=request.practice_ods,
        modality=request.modality,
        minutes=request.minutes,
        not_before=request.starts_at,
        starts_before=request.starts_at + timedelta(seconds=1),
        session_id=start.session_id,
    )
    if not slots:
        raise DirectBookingRefused(
            f"the slot at that time is not free for a {request.minutes}-minute "
            f"{request.modality.value} appointment"
        )
    appointment = await claim_slots(
        session,
        slots,
        appointment_id=request.appointment_id,
        correlation_id=request.correlation_id,
        call_id=request.call_id,
        home_practice_ods=request.practice_ods,
        modality=request.modality,
        minutes=request.minutes,
        appointment_type=request.appointment_type,
        booked_by=BookedBy.PRACTICE_DIRECT,
        respond_by=None,
        now=ctx.clock(),
    )
    if announce:
        add_event(session, _booked_event(appointment, cause))
    return appointment


async def _on_attended(session: AsyncSession, event: AppointmentAttended, ctx: BookingContext) -> None:
    appointment = await _appointment_for(session, event.data.appointment_id)
    if appointment.status == "attended":
        return
    appointment.status = "attended"
    appointment.attendance = event.data.attendance.value
    appointment.next_step = event.data.next_step.value
    session.add(appointment)
    if event.data.next_step is NextStep.FOLLOW_UP:
        kind = domain.follow_up_type(AppointmentType(appointment.appointment_type))
    elif event.data.next_step is NextStep.PRESCRIPTION:
        kind = AppointmentType.PRESCRIPTION
    else:
        return
    await book_next_session(session, ctx, appointment, kind, cause=event)


async def book_next_session(
    session: AsyncSession,
    ctx: BookingContext,
    previous: Appointment,
    kind: AppointmentType,
    *,
    cause: Envelope[Any],
    look_ahead: int = 20,
) -> Appointment | None:
    """Book a follow-up (or prescription slot) into the next session allocated to the same practice.

    If no session ahead has room, the clinician is tasked (case.escalated) instead of silently waiting.
    """
    sessions = (
        await session.exec(
            select(RotaSession)
            .where(
                (col(RotaSession.practice_ods) == previous.practice_ods)
                & (RotaSession.status == "scheduled")
                & (col(RotaSession.starts_at) >= previous.ends_at)
            )
            .order_by(col(RotaSession.starts_at))
            .limit(look_ahead)
        )
    ).all()
    now = ctx.clock()
    for rota_session in sessions:
        slots = await find_slots(
            session,
            pcn_code=previous.pcn_code,
            practice_ods=previous.practice_ods,
            modality=None,
            minutes=domain.SLOT_MINUTES,
            not_before=max(now, previous.ends_at),
            starts_before=None,
            session_id=rota_session.session_id,
        )
        if slots:
            appointment = await claim_slots(
                session,
                slots,
                appointment_id=uuid.uuid4(),
                correlation_id=previous.correlation_id,
                call_id=previous.call_id,
                home_practice_ods=previous.home_practice_ods,
                modality=Modality(slots[0].modality or previous.modality),
                minutes=domain.SLOT_MINUTES,
                appointment_type=kind,
                booked_by=BookedBy.MHP_SERVICE,
                respond_by=None,
                now=now,
            )
            add_event(session, _booked_event(appointment, cause))
            return appointment
    add_event(
        session,
        cause.caused(
            CaseEscalated,
            CaseEscalatedData(
                escalation_id=uuid.uuid4(),
                target=EscalationTarget.DUTY_GP
                if kind is AppointmentType.PRESCRIPTION
                else EscalationTarget.GP,
                reason=EscalationReason.FOLLOW_UP_OVERDUE,
                call_id=previous.call_id,
                appointment_id=previous.appointment_id,
            ),
            producer=producer_for(previous.pcn_code),
            practice_ods=previous.home_practice_ods,
        ),
    )
    return None


# --- queries -----------------------------------------------------------------------------------


async def attendance_review(
    session: AsyncSession, ctx: BookingContext, *, pcn_code: str | None = None
) -> list[Appointment]:
    """Appointments still 'booked' well after their end: a person must record the outcome (no guessed DNA)."""
    cutoff = ctx.clock() - ctx.attendance_review_after
    query = select(Appointment).where(col(Appointment.status) == "booked", col(Appointment.ends_at) <= cutoff)
    if pcn_code is not None:
        query = query.where(Appointment.pcn_code == pcn_code)
    return list((await session.exec(query.order_by(col(Appointment.ends_at)))).all())
