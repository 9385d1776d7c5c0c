"""Booking's SQL unit of work: its repositories over one session, events into the outbox, one commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Self

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.booking.adapters.case_watch_repositories import SqlCaseWatch, SqlDecisions
from services.booking.adapters.repositories import SqlAppointments, SqlCaps, SqlRefusals, SqlWaitlist
from services.booking.adapters.rota_repositories import SqlSessions, SqlSlots
from services.booking.application.unit_of_work import SlotTaken
from shared.db import Database
from shared.unit_of_work import SqlUnitOfWork


class SqlBookingUnitOfWork(SqlUnitOfWork):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.sessions = SqlSessions(session)
        self.slots = SqlSlots(session)
        self.appointments = SqlAppointments(session)
        self.waitlist = SqlWaitlist(session)
        self.caps = SqlCaps(session)
        self.refusals = SqlRefusals(session)
        self.decisions = SqlDecisions(session)
        self.watch = SqlCaseWatch(session)

    @classmethod
    @asynccontextmanager
    async def begin(cls, db: Database) -> AsyncIterator[Self]:
        """A unit of work of its own (HTTP, CLI). The live-claim unique index refusing a second claim at
        commit means another process took the slot first: the same answer as a failed compare-and-set."""
        try:
            async with db.transaction() as session:
                yield cls(session)
        except IntegrityError as exc:
            if not _lost_booking_race(exc):
                raise  # any other constraint (a duplicate session, say) is not "someone took the slot"
            raise SlotTaken("a slot was claimed by another unit of work") from exc


# The partial unique indexes that make a booking race lose at commit (PostgreSQL names the index,
# SQLite the columns): one live claim per slot, one live initial appointment per call.
_BOOKING_RACE_MARKERS = (
    "uq_booking_live_slot",
    "uq_booking_live_call",
    "booking_appointment_slots.slot_id",
    "booking_appointments.call_id",
)


def _lost_booking_race(error: IntegrityError) -> bool:
    message = str(error.orig)
    return any(marker in message for marker in _BOOKING_RACE_MARKERS)
