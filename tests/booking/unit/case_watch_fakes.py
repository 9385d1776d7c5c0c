"""In-memory decisions and case watch for FakeBookingUnitOfWork: the same compare-and-set answers as SQL."""

from __future__ import annotations

import copy
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from services.booking.application.unit_of_work import DecisionRaced, WatchedCase
from services.booking.domain.appointment import Appointment
from services.booking.domain.case_watch import WaitlistWatch
from services.booking.domain.decisions import IgnoredDecision, TriageDecision

if TYPE_CHECKING:
    from tests.booking.unit.fakes import FakeAppointments, FakeWaitlist


class FakeDecisions:
    def __init__(self) -> None:
        self.applied: dict[uuid.UUID, TriageDecision] = {}
        self.ignored: list[IgnoredDecision] = []
        self.raced_by: TriageDecision | None = None
        """A decision another unit of work applies between our read and our compare-and-set."""

    async def applied_for(self, call_id: uuid.UUID) -> TriageDecision | None:
        return self.applied.get(call_id)

    async def apply(
        self, decision: TriageDecision, *, replacing: TriageDecision | None, at: datetime
    ) -> None:
        if self.raced_by is not None:
            self.applied[decision.call_id], self.raced_by = self.raced_by, None
        if self.applied.get(decision.call_id) != replacing:
            raise DecisionRaced("another decision for the call was applied first")
        self.applied[decision.call_id] = decision

    async def record_ignored(self, ignored: IgnoredDecision) -> None:
        assert all(i.decision.event_id != ignored.decision.event_id for i in self.ignored), "primary key"
        self.ignored.append(ignored)


class FakeCaseWatch:
    def __init__(
        self, waitlist: FakeWaitlist, appointments: FakeAppointments, decisions: FakeDecisions
    ) -> None:
        self._waitlist, self._appointments, self._decisions = waitlist, appointments, decisions
        self.watches: dict[uuid.UUID, WaitlistWatch] = {}
        self.outcome_escalated: dict[uuid.UUID, datetime] = {}

    async def waiting_due(self, now: datetime, limit: int) -> list[WatchedCase]:
        due = []
        for entry in self._waitlist.waiting():
            watch = self.watches.get(entry.entry_id)
            if watch is None or watch.next_check_at <= now:
                decision = self._decisions.applied.get(entry.call_id)
                code = decision.triage_code if decision is not None else None
                due.append(WatchedCase(copy.deepcopy(entry), watch, code))
        due.sort(key=lambda c: (c.watch.next_check_at if c.watch else c.entry.created_at, c.entry.entry_id))
        return due[:limit]

    async def claim(self, previous: WaitlistWatch | None, claimed: WaitlistWatch) -> bool:
        if self.watches.get(claimed.entry_id) != previous:
            return False
        self.watches[claimed.entry_id] = claimed
        return True

    async def outcomes_missing(self, ended_by: datetime, limit: int) -> list[Appointment]:
        found = [
            a
            for a in self._appointments.rows.values()
            if a.is_booked and a.ends_at <= ended_by and a.appointment_id not in self.outcome_escalated
        ]
        found.sort(key=lambda a: (a.ends_at, a.appointment_id))
        return [copy.deepcopy(a) for a in found[:limit]]

    async def claim_outcome_escalation(self, appointment_id: uuid.UUID, at: datetime) -> bool:
        if appointment_id in self.outcome_escalated:
            return False
        self.outcome_escalated[appointment_id] = at
        return True
