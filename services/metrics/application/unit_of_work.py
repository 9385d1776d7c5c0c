"""The port metrics' use cases work through: the archive and the projections, in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Protocol

from services.metrics.domain.events import ArchivedEvent
from services.metrics.domain.facts import EscalationFact, Fact
from services.metrics.domain.kinds import FactKind
from shared.contracts.envelope import Envelope


class Archive(Protocol):
    """Append-only, in consumption order."""

    async def add(self, record: ArchivedEvent) -> None: ...

    async def count(self) -> int: ...

    def replay(self, chunk: int) -> AsyncIterator[list[ArchivedEvent]]:
        """Every archived event in consumption order, `chunk` at a time."""
        ...


class Projections(Protocol):
    """One fact per entity, keyed by (kind, id)."""

    async def get(self, kind: FactKind, key: uuid.UUID) -> Fact | None: ...

    async def add(self, fact: Fact) -> None: ...

    async def update(self, fact: Fact) -> None: ...

    async def replace_all(self, facts: Iterable[Fact]) -> None:
        """Delete every projection and store `facts` instead."""
        ...

    async def facts(self, pcn: str | None = None) -> list[Fact]:
        """Every fact (of one PCN when given)."""
        ...

    async def recent_escalations(self, limit: int) -> list[EscalationFact]:
        """The latest raised escalations, newest first."""
        ...


class MetricsUnitOfWork(Protocol):
    @property
    def archive(self) -> Archive: ...

    @property
    def projections(self) -> Projections: ...

    def add_event(self, event: Envelope[Any]) -> None: ...

    def after_commit(self, hook: Callable[[], None]) -> None: ...
