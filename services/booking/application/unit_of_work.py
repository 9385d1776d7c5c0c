"""The port booking's handlers work through: its repositories and `add_event`, committed together.

`adapters/unit_of_work.py` implements it over SQL; the unit tests' `FakeBookingUnitOfWork` in memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from services.booking.domain.allocation import SlotQuery
from services.booking.domain.appointment import Appointment
from services.booking.domain.case_watch import WaitlistWatch
from services.booking.domain.decisions import IgnoredDecision, TriageDecision
from services.booking.domain.direct_booking import Refusal
from services.booking.domain.rota import RotaSession, Slot, SlotStatus
from services.booking.domain.waitlist import WaitlistEntry
from shared.contracts.codes import AppointmentType, Modality, SessionPeriod, TriageCode
from shared.contracts.envelope import Envelope
from shared.errors import NotYet


class SlotTaken(NotYet):
    """Another unit of work claimed the slot first; a retry of the whole unit of work finds another."""


@dataclass(frozen=True)
class SlotFilter:
    """Which clinical slots a reader wants to see (HTTP /slots, FHIR Slot search)."""

    pcn_code: str | None = None
    practice_ods: str | None = None
    status: SlotStatus | None = SlotStatus.FREE
    starts_from: datetime | None = None
    starts_to: datetime | None = None
    to_inclusive: bool = False  # FHIR's le; our own API's `to` is exclusive
    modality: Modality | None = None
    limit: int = 200
    offset: int = 0


class SessionRepository(Protocol):
    async def exists(self, practice_ods: str, session_date: date, period: SessionPeriod) -> bool: ...
    async def add(self, session: RotaSession) -> None:
        """Add a new session with its slots."""

    async def get(self, session_id: uuid.UUID) -> RotaSession | None: ...
    async def save(self, session: RotaSession) -> None: ...
    async def next_scheduled(self, practice_ods: str, starting_from: datetime, limit: int) -> list[uuid.UUID]:
        """Ids of the practice's scheduled sessions starting at or after an instant, in start order."""

    async def search(
        self,
        pcn_code: str,
        practice_ods: str | None,
        from_date: date | None,
        to_date: date | None,
        *,
        offset: int = 0,
        limit: int = 1000,
    ) -> list[RotaSession]: ...


class SlotRepository(Protocol):
    async def find(self, query: SlotQuery) -> list[Slot] | None:
        """The earliest fit (see `domain.allocation.first_fit`)."""

    async def claim(self, slot_ids: Sequence[uuid.UUID]) -> None:
        """Compare-and-set free -> booked; raises SlotTaken if another unit of work got one first."""

    async def free(self, slot_ids: Sequence[uuid.UUID]) -> None:
        """Booked -> free (a slot of a cancelled session stays cancelled)."""

    async def cancel_in_session(self, session_id: uuid.UUID) -> None: ...
    async def get(self, slot_id: uuid.UUID) -> Slot | None: ...
    async def starting_at(self, practice_ods: str, starts_at: datetime) -> Slot | None: ...
    async def search(self, where: SlotFilter) -> list[Slot]: ...
    async def count(self, where: SlotFilter) -> int:
        """How many slots match, whatever the page (a FHIR searchset's `total`)."""


class AppointmentRepository(Protocol):
    async def get(self, appointment_id: uuid.UUID) -> Appointment | None: ...
    async def add(self, appointment: Appointment) -> None:
        """Add a new appointment with a live claim on each of its slots."""

    async def save(self, appointment: Appointment) -> None: ...
    async def release_claims(self, appointment_id: uuid.UUID) -> list[uuid.UUID]:
        """End the appointment's live claims; returns the slots they held."""

    async def live_initial_for_call(self, call_id: uuid.UUID) -> Appointment | None: ...
    async def booked_in_session(self, session_id: uuid.UUID) -> list[Appointment]: ...
    async def count_direct_in_week(self, practice_ods: str, week_start: datetime, week_end: datetime) -> int:
        """Direct bookings of a practice starting in the week, cancelled ones not counted."""

    async def booked_ended_by(
        self,
        cutoff: datetime,
        pcn_code: str | None,
        *,
        home_practice_ods: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Appointment]: ...
    async def count_not_cancelled(
        self,
        pcn_code: str,
        appointment_type: AppointmentType,
        starts_from: datetime | None,
        starts_to: datetime | None,
        *,
        home_practice_ods: str | None = None,
    ) -> int: ...
    async def count_urgent_booked_since(self, pcn_code: str, since: datetime) -> int:
        """Urgent appointments of the PCN booked (created) since an instant, cancelled ones not counted."""


class WaitlistRepository(Protocol):
    async def add(self, entry: WaitlistEntry) -> None: ...
    async def save(self, entry: WaitlistEntry) -> None: ...
    async def waiting_for_call(self, call_id: uuid.UUID) -> WaitlistEntry | None: ...
    async def waiting_in(
        self,
        pcn_code: str,
        limit: int | None = None,
        *,
        practice_ods: str | None = None,
        offset: int = 0,
    ) -> list[WaitlistEntry]:
        """The PCN's (or one practice's patients') waiting cases, earliest deadline first."""

    async def count_urgent_waiting(self, pcn_code: str, *, created_since: datetime | None = None) -> int:
        """Urgent cases waiting in the PCN (only those waitlisted since an instant, if given)."""


class DecisionRepository(Protocol):
    """Per call, the newest triage decision booking applied; and the decisions it ignored (for audit)."""

    async def applied_for(self, call_id: uuid.UUID) -> TriageDecision | None: ...
    async def apply(
        self, decision: TriageDecision, *, replacing: TriageDecision | None, at: datetime
    ) -> None:
        """Compare-and-set: record `decision` as the call's, if `replacing` is still the one recorded.

        Raises DecisionRaced if another unit of work recorded another decision for the call meanwhile.
        """

    async def record_ignored(self, ignored: IgnoredDecision) -> None: ...


class CaseWatchRepository(Protocol):
    """The watchdog's view: waiting cases due a look, appointments without an outcome, and its claims."""

    async def waiting_due(self, now: datetime, limit: int) -> list[WatchedCase]:
        """Waiting entries never looked at, or whose next look is due; oldest due first."""

    async def claim(self, previous: WaitlistWatch | None, claimed: WaitlistWatch) -> bool:
        """Compare-and-set: True if `previous` was still the entry's watch state (None: none yet)."""

    async def outcomes_missing(self, ended_by: datetime, limit: int) -> list[Appointment]:
        """Appointments still booked that ended by `ended_by` and were not escalated for it yet."""

    async def claim_outcome_escalation(self, appointment_id: uuid.UUID, at: datetime) -> bool:
        """True once per appointment: the claim that makes the missing-outcome escalation fire once."""


class DecisionRaced(NotYet):
    """Another unit of work applied a decision for the call first: a retry orders this one against it."""


@dataclass(frozen=True)
class WatchedCase:
    entry: WaitlistEntry
    watch: WaitlistWatch | None
    triage_code: TriageCode | None
    """The call's applied triage code; None for a case without a call (a rebooked direct booking)."""


class CapRepository(Protocol):
    async def get(self, practice_ods: str) -> int | None: ...
    async def set(self, practice_ods: str, weekly_direct_bookings: int) -> None: ...


class RefusalRepository(Protocol):
    async def is_refused(self, appointment_id: uuid.UUID) -> bool: ...
    async def add(self, refusal: Refusal) -> None: ...
    async def for_practice(
        self, practice_ods: str, *, offset: int = 0, limit: int | None = None
    ) -> list[Refusal]: ...


class BookingUnitOfWork(Protocol):
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def slots(self) -> SlotRepository: ...
    @property
    def appointments(self) -> AppointmentRepository: ...
    @property
    def waitlist(self) -> WaitlistRepository: ...
    @property
    def caps(self) -> CapRepository: ...
    @property
    def refusals(self) -> RefusalRepository: ...
    @property
    def decisions(self) -> DecisionRepository: ...
    @property
    def watch(self) -> CaseWatchRepository: ...

    def add_event(self, event: Envelope[Any]) -> None: ...
