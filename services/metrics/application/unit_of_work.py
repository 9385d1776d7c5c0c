"""The port metrics' use cases work through: the archive and the projections, in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from services.metrics.domain.contributions import Contribution, DeadlineCase, WaitingEntry
from services.metrics.domain.events import ArchivedEvent
from services.metrics.domain.facts import AppointmentFact, EscalationFact, Fact
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

    async def appointments_of_call(self, call_id: uuid.UUID) -> list[AppointmentFact]: ...

    async def open_escalation_figures(
        self, as_of: datetime, pcn: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """Per PCN with any, `escalation_figures.open_escalations` as of `as_of` (of one PCN when given)."""
        ...


ScopeMonth = tuple[str, str, str]
"""(PCN, scope, month): scope is a practice's ODS code or `contributions.PCN_SCOPE`."""


class KeptFigures(Protocol):
    """The figures kept as events arrive: counters and medians per (PCN, scope, month, name), each fact's
    contribution, the deadline cases and the waiting cases; and which practices each PCN has."""

    async def hold(self) -> None:
        """Take the writers' lock until the transaction ends: a fact's new contribution is applied as its
        difference from the stored one, and an event refreshes related facts (a call and its
        appointments), so two writers must not read the same stored shares at once."""
        ...

    async def contribution(self, source: str) -> Contribution | None: ...

    async def replace(self, source: str, pcn: str, old: Contribution | None, new: Contribution) -> None:
        """Store `new` as the source's contribution, applying only its difference from `old`."""
        ...

    async def note_practice(self, pcn: str, practice: str) -> None: ...

    async def replace_all(
        self, contributions: Mapping[str, tuple[str, Contribution]], practices: Iterable[tuple[str, str]]
    ) -> None:
        """Delete every kept figure and keep these instead (`contributions`: source -> (PCN, share))."""
        ...

    async def pcns(self, pcn: str | None = None) -> list[str]:
        """The PCNs of which an event was received, in order (only `pcn`, if it is one, when given)."""
        ...

    async def practices(self, pcn: str | None = None) -> list[tuple[str, str]]:
        """(PCN, practice) pairs of which an event was received."""
        ...

    async def values(
        self,
        months: Collection[str],
        *,
        pcn: str | None = None,
        pcn_totals_only: bool = False,
        names: Collection[str] | None = None,
    ) -> dict[ScopeMonth, dict[str, float]]: ...

    async def unsettled(
        self, months: Collection[str], as_of: datetime, pcn: str | None = None
    ) -> list[DeadlineCase]:
        """Deadline cases due in `months` whose status may still change at or after `as_of`."""
        ...

    async def waiting(self, as_of: datetime, pcn: str | None = None) -> list[WaitingEntry]:
        """Waiting entries not seen by `as_of`."""
        ...


class MetricsUnitOfWork(Protocol):
    @property
    def archive(self) -> Archive: ...

    @property
    def projections(self) -> Projections: ...

    @property
    def kept(self) -> KeptFigures: ...

    def add_event(self, event: Envelope[Any]) -> None: ...

    def after_commit(self, hook: Callable[[], None]) -> None: ...
