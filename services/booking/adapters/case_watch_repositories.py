"""The case watch over one SQL session: the decision applied per call, its compare-and-set claims."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, and_, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from services.booking.adapters import case_watch_tables as watch_tables
from services.booking.adapters import mapping, tables
from services.booking.adapters.rota_repositories import SqlRepository
from services.booking.application.unit_of_work import DecisionRaced, WatchedCase
from services.booking.domain.appointment import Appointment, AppointmentStatus
from services.booking.domain.case_watch import WaitlistWatch
from services.booking.domain.decisions import IgnoredDecision, TriageDecision
from services.booking.domain.waitlist import WaitlistStatus
from shared.contracts.codes import TriageCode


def _insert_or_nothing(repository: SqlRepository, table: Any) -> Any:
    """INSERT .. ON CONFLICT DO NOTHING for the dialect: a concurrent twin waits, then adds nothing."""
    session = repository.session
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


class SqlDecisions(SqlRepository):
    async def applied_for(self, call_id: uuid.UUID) -> TriageDecision | None:
        row = await self.session.get(watch_tables.CallDecision, call_id)
        if row is None:
            return None
        code = TriageCode(row.triage_code) if row.triage_code else None
        return TriageDecision(row.event_id, row.call_id, row.decision_sequence, row.decided_at, code)

    async def apply(
        self, decision: TriageDecision, *, replacing: TriageDecision | None, at: datetime
    ) -> None:
        values = {
            "event_id": decision.event_id,
            "decision_sequence": decision.sequence,
            "decided_at": decision.decided_at,
            "triage_code": decision.triage_code.value if decision.triage_code else None,
            "applied_at": at,
        }
        if replacing is None:
            # A concurrent first decision for the call loses on the primary key, and is retried.
            statement: Any = (
                _insert_or_nothing(self, watch_tables.CallDecision)
                .values(call_id=decision.call_id, **values)
                .on_conflict_do_nothing(index_elements=["call_id"])
            )
        else:
            d = watch_tables.CallDecision
            statement = (
                update(d)
                .where((col(d.call_id) == decision.call_id) & (col(d.event_id) == replacing.event_id))
                .values(**values)
            )
        result: CursorResult[Any] = await self.session.exec(statement)
        if result.rowcount != 1:
            raise DecisionRaced("another decision for the call was applied first")

    async def record_ignored(self, ignored: IgnoredDecision) -> None:
        self.session.add(
            watch_tables.IgnoredDecision(
                event_id=ignored.decision.event_id,
                call_id=ignored.decision.call_id,
                decision_sequence=ignored.decision.sequence,
                decided_at=ignored.decision.decided_at,
                ordering=ignored.ordering.value,
                applied_event_id=ignored.applied.event_id,
                applied_sequence=ignored.applied.sequence,
                ignored_at=ignored.ignored_at,
            )
        )


class SqlCaseWatch(SqlRepository):
    async def waiting_due(self, now: datetime, limit: int) -> list[WatchedCase]:
        w, watch, decision = tables.WaitlistEntry, watch_tables.WaitlistWatch, watch_tables.CallDecision
        query = (
            select(w, watch, decision.triage_code)
            .join(watch, col(watch.entry_id) == col(w.entry_id), isouter=True)
            .join(decision, col(decision.call_id) == col(w.call_id), isouter=True)
            .where(col(w.status) == WaitlistStatus.WAITING.value)
            .where(col(watch.entry_id).is_(None) | (col(watch.next_check_at) <= now))
            .order_by(func.coalesce(col(watch.next_check_at), col(w.created_at)), col(w.entry_id))
            .limit(limit)
        )
        found = []
        for entry, seen, code in (await self.session.exec(query)).all():
            state = (
                WaitlistWatch(seen.entry_id, seen.next_check_at, seen.escalations, seen.breach_escalated_at)
                if seen is not None
                else None
            )
            found.append(WatchedCase(mapping.entry_of(entry), state, TriageCode(code) if code else None))
        return found

    async def claim(self, previous: WaitlistWatch | None, claimed: WaitlistWatch) -> bool:
        values = {
            "next_check_at": claimed.next_check_at,
            "escalations": claimed.escalations,
            "breach_escalated_at": claimed.breach_escalated_at,
        }
        watch = watch_tables.WaitlistWatch
        if previous is None:
            statement: Any = (
                _insert_or_nothing(self, watch)
                .values(entry_id=claimed.entry_id, **values)
                .on_conflict_do_nothing(index_elements=["entry_id"])
            )
        else:
            statement = (
                update(watch)
                .where(
                    and_(
                        col(watch.entry_id) == previous.entry_id,
                        col(watch.next_check_at) == previous.next_check_at,
                        col(watch.escalations) == previous.escalations,
                    )
                )
                .values(**values)
            )
        result: CursorResult[Any] = await self.session.exec(statement)
        return bool(result.rowcount == 1)

    async def outcomes_missing(self, ended_by: datetime, limit: int) -> list[Appointment]:
        a, review = tables.Appointment, watch_tables.OutcomeReview
        query = (
            select(a)
            .join(review, col(review.appointment_id) == col(a.appointment_id), isouter=True)
            .where(col(a.status) == AppointmentStatus.BOOKED.value, col(a.ends_at) <= ended_by)
            .where(col(review.appointment_id).is_(None))
            .order_by(col(a.ends_at), col(a.appointment_id))
            .limit(limit)
        )
        # The escalation needs no slots: the appointment's own fields name the case.
        return [mapping.appointment_of(row, ()) for row in (await self.session.exec(query)).all()]

    async def claim_outcome_escalation(self, appointment_id: uuid.UUID, at: datetime) -> bool:
        statement = (
            _insert_or_nothing(self, watch_tables.OutcomeReview)
            .values(appointment_id=appointment_id, escalated_at=at)
            .on_conflict_do_nothing(index_elements=["appointment_id"])
        )
        result: CursorResult[Any] = await self.session.exec(statement)
        return bool(result.rowcount == 1)
