"""Booking's case watchdog: the shared loop running the waiting-case watch and the missing-outcome scan."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.booking.adapters.unit_of_work import SqlBookingUnitOfWork
from services.booking.application.commands import EscalateMissingOutcomes, WatchWaitingCases
from services.booking.application.context import BookingContext
from services.booking.application.handlers.watch import escalate_missing_outcomes, watch_waiting_cases
from shared.db import Database
from shared.watchdog import Watchdog


def case_watchdog(db: Database, ctx: BookingContext, *, interval: float) -> Watchdog:
    """Every case watched until the patient is seen: waiting cases re-escalated, missing outcomes too."""

    async def waiting_cases(session: AsyncSession, limit: int) -> int:
        done = await watch_waiting_cases(WatchWaitingCases(limit), SqlBookingUnitOfWork(session), ctx)
        return done.looked_at

    async def missing_outcomes(session: AsyncSession, limit: int) -> int:
        return await escalate_missing_outcomes(
            EscalateMissingOutcomes(limit), SqlBookingUnitOfWork(session), ctx
        )

    return Watchdog(db, [waiting_cases, missing_outcomes], interval=interval)
