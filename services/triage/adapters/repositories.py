"""Triage's SQL: calls and decisions between their rows and the domain aggregate."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import CursorResult
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.triage.adapters.tables import TriageCall, TriageDecision
from services.triage.domain.call import Call, CallStatus, ConcurrentDecision, Decision
from services.triage.domain.intake import Priority
from services.triage.domain.mhts import ContactOutcome, RiskFormulation
from shared.contracts.codes import (
    CallerUrgency,
    Channel,
    Destination,
    Disposition,
    EscalationTarget,
    Modality,
    OutOfScopeReason,
    TriageCode,
)

E = TypeVar("E", bound=Enum)


def _columns(value: Call | Decision) -> dict[str, Any]:
    """A domain object's fields as column values: enums stored as their (unchanged) strings and integers."""
    return {
        name: item.value if isinstance(item, Enum) else item
        for name, item in vars(value).items()
        if name != "risk"
    }


def _call(row: TriageCall) -> Call:
    enums: dict[str, Any] = {
        "channel": Channel(row.channel),
        "caller_urgency": CallerUrgency(row.caller_urgency),
        "priority": Priority(row.priority),
        "status": CallStatus(row.status),
        "out_of_hours_escalated_to": _optional(EscalationTarget, row.out_of_hours_escalated_to),
    }
    return Call(**(row.model_dump() | enums))


class SqlCallRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, call_id: uuid.UUID) -> Call | None:
        row = await self.session.get(TriageCall, call_id)
        return _call(row) if row is not None else None

    async def add(self, call: Call) -> None:
        self.session.add(TriageCall(**_columns(call)))

    async def save(self, call: Call, *, replacing: uuid.UUID | None) -> None:
        # Conditional, so two decisions racing on one call cannot both become current.
        current = col(TriageCall.latest_decision_id)
        result: CursorResult[tuple[()]] = await self.session.exec(
            update(TriageCall)
            .where(
                (col(TriageCall.call_id) == call.call_id)
                & (current.is_(None) if replacing is None else current == replacing)
            )
            .values(
                status=call.status.value,
                latest_decision_id=call.latest_decision_id,
                decision_sequence=call.decision_sequence,
            )
        )
        if result.rowcount != 1:
            raise ConcurrentDecision()

    async def awaiting_triage(
        self, pcn_code: str, practice_ods: str | None, *, offset: int, limit: int
    ) -> Sequence[Call]:
        query = select(TriageCall).where(
            (col(TriageCall.status) == CallStatus.AWAITING_TRIAGE.value)
            & (col(TriageCall.pcn_code) == pcn_code)
        )
        if practice_ods:
            query = query.where(col(TriageCall.practice_ods) == practice_ods)
        # call_id last: a total order, so pages neither repeat nor skip calls received at the same instant.
        query = (
            query.order_by(col(TriageCall.priority), col(TriageCall.received_at), col(TriageCall.call_id))
            .offset(offset)
            .limit(limit)
        )
        return [_call(row) for row in (await self.session.exec(query)).all()]

    async def overdue(self, now: datetime, limit: int) -> Sequence[Call]:
        query = (
            select(TriageCall)
            .where(
                (col(TriageCall.status) == CallStatus.AWAITING_TRIAGE.value)
                & col(TriageCall.escalated_at).is_(None)
                & (col(TriageCall.callback_due_at) < now)
            )
            .order_by(col(TriageCall.callback_due_at))
            .limit(limit)
        )
        return [_call(row) for row in (await self.session.exec(query)).all()]

    async def claim_deadline_escalation(self, call: Call) -> bool:
        # Conditional: a second instance or a decision committed meanwhile leaves nothing to claim.
        result: CursorResult[tuple[()]] = await self.session.exec(
            update(TriageCall)
            .where(
                (col(TriageCall.call_id) == call.call_id)
                & col(TriageCall.escalated_at).is_(None)
                & (col(TriageCall.status) == CallStatus.AWAITING_TRIAGE.value)
            )
            .values(escalated_at=call.escalated_at, escalation_event_id=call.escalation_event_id)
        )
        return result.rowcount == 1


_RISK_FLAGS = [f.name for f in fields(RiskFormulation) if f.name != "summary"]


def _decision(row: TriageDecision) -> Decision:
    columns = {k: v for k, v in row.model_dump().items() if not k.startswith("risk_")}
    risk = None
    if row.risk_summary is not None:
        flags = {flag: bool(getattr(row, f"risk_{flag}")) for flag in _RISK_FLAGS}
        risk = RiskFormulation(summary=row.risk_summary, **flags)
    enums: dict[str, Any] = {
        "triage_code": TriageCode(row.triage_code),
        "disposition": Disposition(row.disposition),
        "modality": _optional(Modality, row.modality),
        "out_of_scope_reason": _optional(OutOfScopeReason, row.out_of_scope_reason),
        "destination": _optional(Destination, row.destination),
        "contact_outcome": _optional(ContactOutcome, row.contact_outcome),
    }
    return Decision(**(columns | enums), risk=risk)


def _optional(kind: type[E], value: str | None) -> E | None:
    return kind(value) if value is not None else None


def _decision_row(decision: Decision) -> TriageDecision:
    risk = {f"risk_{name}": value for name, value in vars(decision.risk).items()} if decision.risk else {}
    return TriageDecision(**_columns(decision), **risk)


class SqlDecisionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, decision_id: uuid.UUID) -> Decision | None:
        row = await self.session.get(TriageDecision, decision_id)
        return _decision(row) if row is not None else None

    async def add(self, decision: Decision) -> None:
        self.session.add(_decision_row(decision))

    async def save(self, decision: Decision) -> None:
        row = await self.session.get(TriageDecision, decision.decision_id)
        assert row is not None, "save() is for a decision read from this repository"
        row.superseded_by = decision.superseded_by
        self.session.add(row)

    async def of_call(self, call_id: uuid.UUID) -> Sequence[Decision]:
        query = (
            select(TriageDecision)
            .where(col(TriageDecision.call_id) == call_id)
            .order_by(col(TriageDecision.decision_sequence))
        )
        return [_decision(row) for row in (await self.session.exec(query)).all()]
