"""In-memory booking unit of work: repositories hold copies, so a handler must save what it changes."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import TypeVar

from services.booking.application.context import BookingContext
from services.booking.application.unit_of_work import SlotFilter, SlotTaken
from services.booking.domain.allocation import SlotQuery, first_fit
from services.booking.domain.appointment import Appointment, AppointmentStatus
from services.booking.domain.direct_booking import Refusal
from services.booking.domain.rota import RotaSession, SessionStatus, Slot, SlotKind, SlotStatus
from services.booking.domain.urgency import Urgency
from services.booking.domain.waitlist import WaitlistEntry, WaitlistStatus, by_deadline
from shared.contracts.codes import AppointmentType, BookedBy, SessionPeriod
from tests.booking.unit.case_watch_fakes import FakeCaseWatch, FakeDecisions
from tests.support.clock import FakeClock
from tests.support.fake_uow import FakeUnitOfWork

T = TypeVar("T")


def _copy(item: T) -> T:
    return copy.deepcopy(item)


class FakeSessions:
    def __init__(self, slots: FakeSlots) -> None:
        self.rows: dict[uuid.UUID, RotaSession] = {}
        self._slots = slots

    async def exists(self, practice_ods: str, session_date: date, period: SessionPeriod) -> bool:
        return any(
            (s.practice_ods, s.session_date, s.period) == (practice_ods, session_date, period)
            for s in self.rows.values()
        )

    async def add(self, session: RotaSession) -> None:
        assert not await self.exists(session.practice_ods, session.session_date, session.period), "unique"
        self.rows[session.session_id] = _copy(session)
        for slot in session.slots:
            self._slots.rows[slot.slot_id] = _copy(slot)

    async def get(self, session_id: uuid.UUID) -> RotaSession | None:
        found = self.rows.get(session_id)
        return _copy(found) if found is not None else None

    async def save(self, session: RotaSession) -> None:
        assert session.session_id in self.rows
        self.rows[session.session_id] = _copy(session)

    async def next_scheduled(self, practice_ods: str, starting_from: datetime, limit: int) -> list[uuid.UUID]:
        ahead = [
            s
            for s in self.rows.values()
            if s.practice_ods == practice_ods
            and s.status is SessionStatus.SCHEDULED
            and s.starts_at >= starting_from
        ]
        return [s.session_id for s in sorted(ahead, key=lambda s: s.starts_at)[:limit]]

    async def search(
        self,
        pcn_code: str,
        practice_ods: str | None,
        from_date: date | None,
        to_date: date | None,
        *,
        offset: int = 0,
        limit: int = 1000,
    ) -> list[RotaSession]:
        found = [
            _copy(s)
            for s in sorted(self.rows.values(), key=lambda s: (s.starts_at, s.session_id))
            if s.pcn_code == pcn_code
            and (practice_ods is None or s.practice_ods == practice_ods)
            and (from_date is None or s.session_date >= from_date)
            and (to_date is None or s.session_date <= to_date)
        ]
        return found[offset : offset + limit]


class FakeSlots:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Slot] = {}
        self.taken_by_someone_else: set[uuid.UUID] = set()
        """Slots another unit of work claims between our search and our claim (the compare-and-set fails)."""

    async def find(self, query: SlotQuery) -> list[Slot] | None:
        found = first_fit(self.rows.values(), query)
        return _copy(found) if found else None

    async def claim(self, slot_ids: Sequence[uuid.UUID]) -> None:
        for slot_id in slot_ids:
            slot = self.rows[slot_id]
            if slot.status is not SlotStatus.FREE or slot_id in self.taken_by_someone_else:
                raise SlotTaken("slot already claimed")
            slot.status = SlotStatus.BOOKED

    async def free(self, slot_ids: Sequence[uuid.UUID]) -> None:
        for slot_id in slot_ids:
            if self.rows[slot_id].status is SlotStatus.BOOKED:
                self.rows[slot_id].status = SlotStatus.FREE

    async def cancel_in_session(self, session_id: uuid.UUID) -> None:
        for slot in self.rows.values():
            if slot.session_id == session_id:
                slot.status = SlotStatus.CANCELLED

    async def get(self, slot_id: uuid.UUID) -> Slot | None:
        found = self.rows.get(slot_id)
        return _copy(found) if found is not None else None

    async def starting_at(self, practice_ods: str, starts_at: datetime) -> Slot | None:
        found = [s for s in self.rows.values() if s.practice_ods == practice_ods and s.starts_at == starts_at]
        return _copy(found[0]) if found else None

    async def search(self, where: SlotFilter) -> list[Slot]:
        found = sorted(self._matching(where), key=lambda s: (s.starts_at, s.slot_id))
        return [_copy(s) for s in found[where.offset : where.offset + where.limit]]

    async def count(self, where: SlotFilter) -> int:
        return len(self._matching(where))

    def _matching(self, where: SlotFilter) -> list[Slot]:
        def wanted(s: Slot) -> bool:
            before = where.starts_to is None or (
                s.starts_at <= where.starts_to if where.to_inclusive else s.starts_at < where.starts_to
            )
            return (
                s.kind is SlotKind.CLINICAL
                and (where.pcn_code is None or s.pcn_code == where.pcn_code)
                and (where.practice_ods is None or s.practice_ods == where.practice_ods)
                and (where.status is None or s.status is where.status)
                and (where.starts_from is None or s.starts_at >= where.starts_from)
                and before
                and (where.modality is None or s.modality is where.modality)
            )

        return [s for s in self.rows.values() if wanted(s)]


class FakeAppointments:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Appointment] = {}
        self.live_claims: dict[uuid.UUID, uuid.UUID] = {}
        """slot_id -> appointment_id: the database's one-live-claim-per-slot guard."""

    async def get(self, appointment_id: uuid.UUID) -> Appointment | None:
        found = self.rows.get(appointment_id)
        return _copy(found) if found is not None else None

    async def add(self, appointment: Appointment) -> None:
        assert appointment.appointment_id not in self.rows
        for slot_id in appointment.slot_ids:
            assert slot_id not in self.live_claims, "a second live claim on one slot"
            self.live_claims[slot_id] = appointment.appointment_id
        self.rows[appointment.appointment_id] = _copy(appointment)

    async def save(self, appointment: Appointment) -> None:
        assert appointment.appointment_id in self.rows
        self.rows[appointment.appointment_id] = _copy(appointment)

    async def release_claims(self, appointment_id: uuid.UUID) -> list[uuid.UUID]:
        released = [slot for slot, owner in self.live_claims.items() if owner == appointment_id]
        for slot_id in released:
            del self.live_claims[slot_id]
        return released

    async def live_initial_for_call(self, call_id: uuid.UUID) -> Appointment | None:
        found = [
            a
            for a in self.rows.values()
            if a.call_id == call_id
            and a.is_booked
            and a.appointment_type is AppointmentType.INITIAL_ASSESSMENT
        ]
        return _copy(found[0]) if found else None

    async def booked_in_session(self, session_id: uuid.UUID) -> list[Appointment]:
        found = [a for a in self.rows.values() if a.session_id == session_id and a.is_booked]
        return [_copy(a) for a in sorted(found, key=lambda a: a.starts_at)]

    async def count_direct_in_week(self, practice_ods: str, week_start: datetime, week_end: datetime) -> int:
        return sum(
            a.practice_ods == practice_ods
            and a.booked_by is BookedBy.PRACTICE_DIRECT
            and week_start <= a.starts_at < week_end
            and a.status is not AppointmentStatus.CANCELLED
            for a in self.rows.values()
        )

    async def booked_ended_by(
        self,
        cutoff: datetime,
        pcn_code: str | None,
        *,
        home_practice_ods: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Appointment]:
        found = [
            a
            for a in self.rows.values()
            if a.is_booked
            and a.ends_at <= cutoff
            and (pcn_code is None or a.pcn_code == pcn_code)
            and (home_practice_ods is None or a.home_practice_ods == home_practice_ods)
        ]
        ordered = sorted(found, key=lambda a: (a.ends_at, a.appointment_id))
        return [_copy(a) for a in ordered[offset : None if limit is None else offset + limit]]

    async def count_not_cancelled(
        self,
        pcn_code: str,
        appointment_type: AppointmentType,
        starts_from: datetime | None,
        starts_to: datetime | None,
        *,
        home_practice_ods: str | None = None,
    ) -> int:
        return sum(
            a.pcn_code == pcn_code
            and (home_practice_ods is None or a.home_practice_ods == home_practice_ods)
            and a.appointment_type is appointment_type
            and a.status is not AppointmentStatus.CANCELLED
            and (starts_from is None or a.starts_at >= starts_from)
            and (starts_to is None or a.starts_at < starts_to)
            for a in self.rows.values()
        )

    async def count_urgent_booked_since(self, pcn_code: str, since: datetime) -> int:
        return sum(
            a.pcn_code == pcn_code
            and a.urgency is Urgency.URGENT
            and a.created_at >= since
            and a.status is not AppointmentStatus.CANCELLED
            for a in self.rows.values()
        )


class FakeWaitlist:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, WaitlistEntry] = {}

    def waiting(self) -> list[WaitlistEntry]:
        return [e for e in self.rows.values() if e.status is WaitlistStatus.WAITING]

    async def add(self, entry: WaitlistEntry) -> None:
        assert all(e.call_id != entry.call_id for e in self.waiting()), "one waiting entry per call"
        self.rows[entry.entry_id] = _copy(entry)

    async def save(self, entry: WaitlistEntry) -> None:
        assert entry.entry_id in self.rows
        self.rows[entry.entry_id] = _copy(entry)

    async def waiting_for_call(self, call_id: uuid.UUID) -> WaitlistEntry | None:
        found = [e for e in self.waiting() if e.call_id == call_id]
        return _copy(found[0]) if found else None

    async def waiting_in(
        self,
        pcn_code: str,
        limit: int | None = None,
        *,
        practice_ods: str | None = None,
        offset: int = 0,
    ) -> list[WaitlistEntry]:
        found = by_deadline(
            e
            for e in self.waiting()
            if e.pcn_code == pcn_code and (practice_ods is None or e.practice_ods == practice_ods)
        )
        return [_copy(e) for e in found[offset : None if limit is None else offset + limit]]

    async def count_urgent_waiting(self, pcn_code: str, *, created_since: datetime | None = None) -> int:
        return sum(
            e.pcn_code == pcn_code
            and e.urgency is Urgency.URGENT
            and (created_since is None or e.created_at >= created_since)
            for e in self.waiting()
        )


class FakeCaps:
    def __init__(self) -> None:
        self.rows: dict[str, int] = {}

    async def get(self, practice_ods: str) -> int | None:
        return self.rows.get(practice_ods)

    async def set(self, practice_ods: str, weekly_direct_bookings: int) -> None:
        self.rows[practice_ods] = weekly_direct_bookings


class FakeRefusals:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Refusal] = {}

    async def is_refused(self, appointment_id: uuid.UUID) -> bool:
        return appointment_id in self.rows

    async def add(self, refusal: Refusal) -> None:
        assert refusal.appointment_id not in self.rows
        self.rows[refusal.appointment_id] = refusal

    async def for_practice(
        self, practice_ods: str, *, offset: int = 0, limit: int | None = None
    ) -> list[Refusal]:
        found = sorted(
            (r for r in self.rows.values() if r.practice_ods == practice_ods),
            key=lambda r: (r.refused_at, r.appointment_id),
        )
        return found[offset : None if limit is None else offset + limit]


class FakeBookingUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.slots = FakeSlots()
        self.sessions = FakeSessions(self.slots)
        self.appointments = FakeAppointments()
        self.waitlist = FakeWaitlist()
        self.caps = FakeCaps()
        self.refusals = FakeRefusals()
        self.decisions = FakeDecisions()
        self.watch = FakeCaseWatch(self.waitlist, self.appointments, self.decisions)


def context(clock: FakeClock, **overrides: object) -> BookingContext:
    return BookingContext(clock=clock, **overrides)  # type: ignore[arg-type]
