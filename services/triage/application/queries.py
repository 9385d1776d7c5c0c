"""Read-side queries over the same port: the MHP's worklist and a call's audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.triage.application.unit_of_work import TriageUnitOfWork
from services.triage.domain.call import Call, CallNotFound, Decision


@dataclass(frozen=True)
class WorklistItem:
    call: Call
    waiting_minutes: int
    deadline_breached: bool


@dataclass(frozen=True)
class AuditTrail:
    call: Call
    decisions: Sequence[Decision]
    """Every decision, oldest first; superseded ones stay."""


async def worklist(
    uow: TriageUnitOfWork,
    *,
    pcn_code: str,
    practice_ods: str | None,
    now: datetime,
    offset: int = 0,
    limit: int = 200,
) -> list[WorklistItem]:
    """Calls awaiting triage, most urgent first, then longest waiting (`limit` of them from `offset`)."""
    calls = await uow.calls.awaiting_triage(pcn_code, practice_ods, offset=offset, limit=limit)
    return [WorklistItem(call, call.waiting_minutes(now), call.deadline_breached(now)) for call in calls]


async def call_with_decisions(uow: TriageUnitOfWork, call_id: uuid.UUID) -> AuditTrail:
    call = await uow.calls.get(call_id)
    if call is None:
        raise CallNotFound(call_id)
    return AuditTrail(call, await uow.decisions.of_call(call_id))
