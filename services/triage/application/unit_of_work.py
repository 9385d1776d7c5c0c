"""The port triage's handlers and queries work through: repositories and staged events, one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from services.triage.domain.call import Call, Decision
from shared.contracts.envelope import Envelope


class CallRepository(Protocol):
    async def get(self, call_id: uuid.UUID) -> Call | None: ...

    async def add(self, call: Call) -> None: ...

    async def save(self, call: Call, *, replacing: uuid.UUID | None) -> None:
        """Write back the call's status and current decision, if its current decision is still `replacing`
        (compare-and-set); else raise ConcurrentDecision."""
        ...

    async def awaiting_triage(
        self, pcn_code: str, practice_ods: str | None, *, offset: int, limit: int
    ) -> Sequence[Call]:
        """Untriaged calls of a PCN (or one practice), by priority, then longest waiting: `limit` of them
        from `offset` in that order."""
        ...

    async def overdue(self, now: datetime, limit: int) -> Sequence[Call]:
        """Untriaged, not yet escalated calls whose deadline is before `now`, earliest deadline first."""
        ...

    async def claim_deadline_escalation(self, call: Call) -> bool:
        """Store the call's escalation only if the stored call is still untriaged and not escalated."""
        ...


class DecisionRepository(Protocol):
    async def get(self, decision_id: uuid.UUID) -> Decision | None: ...

    async def add(self, decision: Decision) -> None: ...

    async def save(self, decision: Decision) -> None:
        """Write back which decision superseded this one."""
        ...

    async def of_call(self, call_id: uuid.UUID) -> Sequence[Decision]:
        """Every decision on a call in decision_sequence order (oldest first): the audit trail."""
        ...


class TriageUnitOfWork(Protocol):
    # Read-only properties, so an adapter's concrete repositories satisfy the port.
    @property
    def calls(self) -> CallRepository: ...

    @property
    def decisions(self) -> DecisionRepository: ...

    def add_event(self, event: Envelope[Any]) -> None: ...
