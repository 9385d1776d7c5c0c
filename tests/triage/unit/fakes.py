"""An in-memory triage unit of work: the repositories hold copies, as a database would."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from datetime import datetime

from services.triage.adapters.red_flag_file import DEFAULT_RED_FLAGS_FILE, load_red_flags
from services.triage.domain.call import Call, CallStatus, ConcurrentDecision, Decision
from tests.support.fake_uow import FakeUnitOfWork

SHIPPED_RED_FLAGS = load_red_flags(DEFAULT_RED_FLAGS_FILE)
"""The vocabulary the service ships (services/triage/data/red-flags.yaml)."""


class FakeCallRepository:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Call] = {}

    async def get(self, call_id: uuid.UUID) -> Call | None:
        row = self.rows.get(call_id)
        return copy.deepcopy(row) if row is not None else None

    async def add(self, call: Call) -> None:
        assert call.call_id not in self.rows, "primary key"
        self.rows[call.call_id] = copy.deepcopy(call)

    async def save(self, call: Call, *, replacing: uuid.UUID | None) -> None:
        row = self.rows[call.call_id]
        if row.latest_decision_id != replacing:
            raise ConcurrentDecision()
        row.status, row.latest_decision_id = call.status, call.latest_decision_id
        row.decision_sequence = call.decision_sequence

    async def awaiting_triage(
        self, pcn_code: str, practice_ods: str | None, *, offset: int, limit: int
    ) -> Sequence[Call]:
        calls = [
            c
            for c in self.rows.values()
            if c.status is CallStatus.AWAITING_TRIAGE
            and c.pcn_code == pcn_code
            and (not practice_ods or c.practice_ods == practice_ods)
        ]
        ordered = sorted(calls, key=lambda c: (c.priority, c.received_at, c.call_id))
        return [copy.deepcopy(c) for c in ordered[offset : offset + limit]]

    async def overdue(self, now: datetime, limit: int) -> Sequence[Call]:
        calls = [
            c
            for c in self.rows.values()
            if c.status is CallStatus.AWAITING_TRIAGE and c.escalated_at is None and c.callback_due_at < now
        ]
        return [copy.deepcopy(c) for c in sorted(calls, key=lambda c: c.callback_due_at)[:limit]]

    async def claim_deadline_escalation(self, call: Call) -> bool:
        row = self.rows[call.call_id]
        if row.status is not CallStatus.AWAITING_TRIAGE or row.escalated_at is not None:
            return False
        row.escalated_at, row.escalation_event_id = call.escalated_at, call.escalation_event_id
        return True


class FakeDecisionRepository:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Decision] = {}

    async def get(self, decision_id: uuid.UUID) -> Decision | None:
        row = self.rows.get(decision_id)
        return copy.deepcopy(row) if row is not None else None

    async def add(self, decision: Decision) -> None:
        assert decision.decision_id not in self.rows, "primary key"
        self.rows[decision.decision_id] = copy.deepcopy(decision)

    async def save(self, decision: Decision) -> None:
        self.rows[decision.decision_id].superseded_by = decision.superseded_by

    async def of_call(self, call_id: uuid.UUID) -> Sequence[Decision]:
        decisions = [d for d in self.rows.values() if d.call_id == call_id]
        return [copy.deepcopy(d) for d in sorted(decisions, key=lambda d: d.decision_sequence)]


class FakeTriageUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.calls = FakeCallRepository()
        self.decisions = FakeDecisionRepository()
