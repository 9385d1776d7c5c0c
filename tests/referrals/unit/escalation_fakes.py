"""In-memory escalations for the referrals fake unit of work: copies, and compare-and-set on the version."""

from __future__ import annotations

import copy
import uuid
from datetime import datetime

from services.referrals.domain.escalation import Escalation, EscalationState


class FakeEscalations:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Escalation] = {}
        self.refuse_saves = False
        """Act as if another replica changed it first (the compare-and-set fails)."""

    async def get(self, escalation_id: uuid.UUID) -> Escalation | None:
        found = self.rows.get(escalation_id)
        return copy.deepcopy(found) if found is not None else None

    async def add(self, escalation: Escalation) -> None:
        assert escalation.escalation_id not in self.rows, "primary key"
        self.rows[escalation.escalation_id] = copy.deepcopy(escalation)

    async def save(self, escalation: Escalation) -> bool:
        stored = self.rows[escalation.escalation_id]
        if self.refuse_saves or stored.version != escalation.version:
            return False
        escalation.version += 1
        self.rows[escalation.escalation_id] = copy.deepcopy(escalation)
        return True

    async def due_to_climb(self, now: datetime, limit: int) -> list[Escalation]:
        due = [e for e in self.rows.values() if e.due_to_climb(now)]
        return [copy.deepcopy(e) for e in sorted(due, key=lambda e: e.acknowledge_by)[:limit]]

    async def inbox(
        self,
        *,
        owner: str,
        targets: frozenset[str],
        pcns: frozenset[str],
        state: EscalationState | None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Escalation]:
        found = [
            e
            for e in self.rows.values()
            if (e.owner == owner or e.target.value in targets)
            and e.pcn_code in pcns
            and (state is None or e.state is state)
        ]
        ordered = sorted(found, key=lambda e: (e.acknowledge_by, e.escalation_id))
        return [copy.deepcopy(e) for e in ordered[offset : None if limit is None else offset + limit]]
