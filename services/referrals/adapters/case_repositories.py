"""Case-order SQL: the decision applied per call (compare-and-set), the ignored ones, the episode's code."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.referrals.adapters.case_tables import CallDecision, IgnoredDecision
from services.referrals.domain import decisions
from shared.contracts.codes import Disposition, TriageCode


def _decision(row: CallDecision) -> decisions.TriageDecision:
    return decisions.TriageDecision(
        event_id=row.event_id,
        call_id=row.call_id,
        correlation_id=row.correlation_id,
        sequence=row.decision_sequence,
        decided_at=row.decided_at,
        triage_code=TriageCode(row.triage_code) if row.triage_code else None,
        disposition=Disposition(row.disposition),
    )


class SqlCallDecisionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def applied_for(self, call_id: uuid.UUID) -> decisions.TriageDecision | None:
        row = await self.session.get(CallDecision, call_id)
        return _decision(row) if row is not None else None

    async def apply(
        self,
        decision: decisions.TriageDecision,
        *,
        replacing: decisions.TriageDecision | None,
        at: datetime,
    ) -> None:
        values = {
            "event_id": decision.event_id,
            "correlation_id": decision.correlation_id,
            "decision_sequence": decision.sequence,
            "decided_at": decision.decided_at,
            "triage_code": decision.triage_code.value if decision.triage_code else None,
            "disposition": decision.disposition.value,
            "applied_at": at,
        }
        statement: Any
        if replacing is None:
            # A concurrent first decision for the call loses on the primary key, and is retried.
            bind = self.session.bind
            insert = pg_insert if bind is not None and bind.dialect.name == "postgresql" else sqlite_insert
            statement = (
                insert(CallDecision)
                .values(call_id=decision.call_id, **values)
                .on_conflict_do_nothing(index_elements=["call_id"])
            )
        else:
            statement = (
                update(CallDecision)
                .where(
                    (col(CallDecision.call_id) == decision.call_id)
                    & (col(CallDecision.event_id) == replacing.event_id)
                )
                .values(**values)
            )
        result: CursorResult[Any] = await self.session.exec(statement)
        if result.rowcount != 1:
            raise decisions.DecisionRaced("another decision for the call was applied first")

    async def record_ignored(self, ignored: decisions.IgnoredDecision) -> None:
        # Merged, not added: the same ignored event redelivered past the inbox records nothing new.
        decision = ignored.decision
        await self.session.merge(
            IgnoredDecision(
                event_id=decision.event_id,
                call_id=decision.call_id,
                decision_sequence=decision.sequence,
                decided_at=decision.decided_at,
                triage_code=decision.triage_code.value if decision.triage_code else None,
                disposition=decision.disposition.value,
                ordering=ignored.ordering.value,
                applied_event_id=ignored.applied.event_id,
                applied_sequence=ignored.applied.sequence,
                ignored_at=ignored.ignored_at,
            )
        )

    async def triage_code_for_episode(self, correlation_id: uuid.UUID) -> TriageCode | None:
        # Codes A..G sort from the most urgent: the episode's lowest current code is its highest risk.
        query = select(func.min(CallDecision.triage_code)).where(
            col(CallDecision.correlation_id) == correlation_id
        )
        code = (await self.session.exec(query)).first()
        return TriageCode(code) if code else None
