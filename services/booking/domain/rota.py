"""The rota: MHP sessions in London wall-clock time, cut into 30-minute slots; everything stored is UTC."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol

from services.booking.domain.events import SessionWasCancelled, SessionWasScheduled
from shared.contracts.codes import Modality, SessionCancellationReason, SessionPeriod
from shared.errors import RuleViolation
from shared.working_time import LONDON

SLOT_MINUTES = 30
SLOT = timedelta(minutes=SLOT_MINUTES)

# Local wall-clock bounds of a session; the last slot of each is the MHP's admin slot.
PERIOD_TIMES: dict[SessionPeriod, tuple[time, time]] = {
    SessionPeriod.AM: (time(9, 0), time(12, 30)),
    SessionPeriod.PM: (time(13, 30), time(17, 0)),
}


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class SlotKind(StrEnum):
    CLINICAL = "clinical"
    ADMIN = "admin"


class SlotStatus(StrEnum):
    """A search shortcut kept in step with the slot claims (the database's guard against double booking)."""

    FREE = "free"
    BOOKED = "booked"
    CANCELLED = "cancelled"


class RoomRequired(RuleViolation):
    def __init__(self) -> None:
        super().__init__("room: a session offering face_to_face needs a room at the practice")


@dataclass(frozen=True)
class SessionPlan:
    """One MHP session as a rota names it (validated for shape at the edge; the room rule is here)."""

    pcn_code: str
    practice_ods: str
    session_date: date
    period: SessionPeriod
    clinician: str
    modalities: tuple[Modality, ...]
    room: str | None = None

    def __post_init__(self) -> None:
        if Modality.FACE_TO_FACE in self.modalities and self.room is None:
            raise RoomRequired()


@dataclass(frozen=True)
class SlotPlan:
    seq: int
    starts_at: datetime
    ends_at: datetime
    kind: SlotKind
    modality: Modality | None  # None for the admin slot


@dataclass
class Slot:
    slot_id: uuid.UUID
    session_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    seq: int
    starts_at: datetime
    ends_at: datetime
    kind: SlotKind
    modality: Modality | None = None
    status: SlotStatus = SlotStatus.FREE

    @property
    def bookable(self) -> bool:
        return self.status is SlotStatus.FREE and self.kind is SlotKind.CLINICAL


@dataclass
class RotaSession:
    session_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    session_date: date
    period: SessionPeriod
    starts_at: datetime
    ends_at: datetime
    clinician: str
    modalities: tuple[Modality, ...]
    room: str | None = None
    status: SessionStatus = SessionStatus.SCHEDULED
    slots: list[Slot] = field(default_factory=list, repr=False)

    @classmethod
    def schedule(
        cls, plan: SessionPlan, session_id: uuid.UUID
    ) -> tuple[RotaSession, list[SessionWasScheduled]]:
        starts_at, ends_at = session_bounds(plan.session_date, plan.period)
        session = cls(
            session_id=session_id,
            pcn_code=plan.pcn_code,
            practice_ods=plan.practice_ods,
            session_date=plan.session_date,
            period=plan.period,
            starts_at=starts_at,
            ends_at=ends_at,
            clinician=plan.clinician,
            modalities=plan.modalities,
            room=plan.room,
        )
        session.slots = [
            Slot(
                slot_id=uuid.uuid4(),
                session_id=session_id,
                pcn_code=plan.pcn_code,
                practice_ods=plan.practice_ods,
                seq=p.seq,
                starts_at=p.starts_at,
                ends_at=p.ends_at,
                kind=p.kind,
                modality=p.modality,
            )
            for p in plan_slots(plan)
        ]
        return session, [SessionWasScheduled(session)]

    def cancel(self, reason_code: SessionCancellationReason, reason: str | None) -> list[SessionWasCancelled]:
        """Cancel once: a second cancellation changes nothing and announces nothing."""
        if self.status is SessionStatus.CANCELLED:
            return []
        self.status = SessionStatus.CANCELLED
        return [SessionWasCancelled(self, reason_code, reason)]


def session_bounds(session_date: date, period: SessionPeriod) -> tuple[datetime, datetime]:
    """UTC start and end of a session, from its London wall-clock times (BST-aware)."""
    start, end = PERIOD_TIMES[period]
    return (
        datetime.combine(session_date, start, tzinfo=LONDON).astimezone(UTC),
        datetime.combine(session_date, end, tzinfo=LONDON).astimezone(UTC),
    )


class SessionShape(Protocol):
    @property
    def session_date(self) -> date: ...
    @property
    def period(self) -> SessionPeriod: ...
    @property
    def modalities(self) -> tuple[Modality, ...]: ...


def plan_slots(entry: SessionShape) -> list[SlotPlan]:
    """Cut a session into 30-minute slots, modalities in turn, the last slot kept for admin."""
    starts_at, ends_at = session_bounds(entry.session_date, entry.period)
    count = (ends_at - starts_at) // SLOT
    slots = []
    for seq in range(count):
        begin = starts_at + seq * SLOT
        admin = seq == count - 1
        slots.append(
            SlotPlan(
                seq=seq,
                starts_at=begin,
                ends_at=begin + SLOT,
                kind=SlotKind.ADMIN if admin else SlotKind.CLINICAL,
                modality=None if admin else entry.modalities[seq % len(entry.modalities)],
            )
        )
    return slots


_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


def _utc_midnight(day: date | None) -> datetime:
    """London midnight of `day` in UTC, held at the ends of the calendar instead of overflowing."""
    if day is None:
        return _LATEST
    try:
        return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)
    except OverflowError:
        return _EARLIEST if day.year == date.min.year else _LATEST


def week_bounds(instant: datetime) -> tuple[datetime, datetime]:
    """The London week (Monday 00:00 to Monday 00:00) containing an instant, in UTC.

    Defined for every aware datetime: at the ends of the calendar the bounds are held at its ends.
    """
    try:
        local = instant.astimezone(LONDON).date()
    except OverflowError:
        local = instant.date()  # within a day of date.min or date.max: its own date is close enough
    monday = local - timedelta(days=local.weekday())
    following = monday + timedelta(days=7) if monday <= date.max - timedelta(days=7) else None
    return _utc_midnight(monday), _utc_midnight(following)


ROTA_AHEAD = timedelta(days=366)
"""How far ahead a rota may be loaded: a year of sessions is published at most."""


class SessionOutsideRotaWindow(RuleViolation):
    pass


def check_rota_window(plans: Sequence[SessionPlan], now: datetime) -> None:
    """Sessions are loaded from today (UTC, never ahead of London) to a year ahead; nothing in the past."""
    today = now.astimezone(UTC).date()
    for index, plan in enumerate(plans):
        if plan.session_date < today:
            raise SessionOutsideRotaWindow(
                f"sessions[{index}].session_date: is in the past; load sessions from {today.isoformat()} on"
            )
        if plan.session_date - today > ROTA_AHEAD:
            raise SessionOutsideRotaWindow(
                f"sessions[{index}].session_date: is more than a year ahead; load sessions up to "
                f"{(today + ROTA_AHEAD).isoformat()}"
            )
