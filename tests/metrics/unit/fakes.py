"""An in-memory metrics unit of work: the archive keeps JSON as the table does, projections keep copies."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator, Collection, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from services.metrics.application.context import MetricsContext
from services.metrics.domain.contributions import (
    Contribution,
    DeadlineCase,
    WaitingEntry,
    medians_of,
    totals,
)
from services.metrics.domain.escalation_figures import open_escalations
from services.metrics.domain.events import ArchivedEvent
from services.metrics.domain.facts import FACT_CLASSES, KEY_FIELD, AppointmentFact, EscalationFact, Fact
from services.metrics.domain.kinds import FactKind
from services.metrics.domain.live_feed import FeedItem
from tests.support.fake_uow import FakeUnitOfWork

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
KIND_OF = {cls: kind for kind, cls in FACT_CLASSES.items()}


class FakeArchive:
    def __init__(self) -> None:
        self.records: list[ArchivedEvent] = []

    async def add(self, record: ArchivedEvent) -> None:
        assert all(r.event_id != record.event_id for r in self.records), "event_id is unique"
        # Stored as the table stores it: the payload goes through JSON.
        self.records.append(replace(record, data=json.loads(json.dumps(record.data))))

    async def count(self) -> int:
        return len(self.records)

    async def replay(self, chunk: int) -> AsyncIterator[list[ArchivedEvent]]:
        for start in range(0, len(self.records), chunk):
            yield list(self.records[start : start + chunk])


class FakeProjections:
    def __init__(self) -> None:
        self.rows: dict[tuple[FactKind, uuid.UUID], Fact] = {}

    @staticmethod
    def _key(fact: Fact) -> tuple[FactKind, uuid.UUID]:
        kind = KIND_OF[type(fact)]
        return kind, getattr(fact, KEY_FIELD[kind])

    async def get(self, kind: FactKind, key: uuid.UUID) -> Fact | None:
        return copy.deepcopy(self.rows.get((kind, key)))

    async def add(self, fact: Fact) -> None:
        assert self._key(fact) not in self.rows, "primary key"
        self.rows[self._key(fact)] = copy.deepcopy(fact)

    async def update(self, fact: Fact) -> None:
        assert self._key(fact) in self.rows, "update of a missing row"
        self.rows[self._key(fact)] = copy.deepcopy(fact)

    async def replace_all(self, facts: Iterable[Fact]) -> None:
        self.rows = {self._key(f): copy.deepcopy(f) for f in facts}

    async def facts(self, pcn: str | None = None) -> list[Fact]:
        return [copy.deepcopy(f) for f in self.rows.values() if pcn is None or f.pcn_code == pcn]

    async def recent_escalations(self, limit: int) -> list[EscalationFact]:
        escalations = [f for f in self.rows.values() if isinstance(f, EscalationFact) and f.occurred_at]
        return sorted(escalations, key=lambda f: f.occurred_at or NOW, reverse=True)[:limit]

    async def appointments_of_call(self, call_id: uuid.UUID) -> list[AppointmentFact]:
        return [
            copy.deepcopy(f)
            for f in self.rows.values()
            if isinstance(f, AppointmentFact) and f.call_id == call_id
        ]

    async def open_escalation_figures(
        self, as_of: datetime, pcn: str | None = None
    ) -> dict[str, dict[str, Any]]:
        by_pcn: dict[str, list[EscalationFact]] = {}
        for f in self.rows.values():
            if isinstance(f, EscalationFact) and f.resolved_at is None and (pcn is None or f.pcn_code == pcn):
                by_pcn.setdefault(f.pcn_code, []).append(copy.deepcopy(f))
        return {p: open_escalations(escalations, as_of) for p, escalations in by_pcn.items()}


class FakeKeptFigures:
    """Keeps each source's contribution; the figures are summed from them when read."""

    def __init__(self) -> None:
        self.shares: dict[str, tuple[str, Contribution]] = {}
        self.known: set[tuple[str, str]] = set()
        self.held = False

    async def hold(self) -> None:
        self.held = True

    async def contribution(self, source: str) -> Contribution | None:
        found = self.shares.get(source)
        return None if found is None else copy.deepcopy(found[1])

    async def replace(self, source: str, pcn: str, old: Contribution | None, new: Contribution) -> None:
        self.shares[source] = (pcn, copy.deepcopy(new))

    async def note_practice(self, pcn: str, practice: str) -> None:
        self.known.add((pcn, practice))

    async def replace_all(
        self, contributions: Mapping[str, tuple[str, Contribution]], practices: Iterable[tuple[str, str]]
    ) -> None:
        self.shares = copy.deepcopy(dict(contributions))
        self.known = set(practices)

    async def pcns(self, pcn: str | None = None) -> list[str]:
        return sorted({p for p, _ in self.known if pcn is None or p == pcn})

    async def practices(self, pcn: str | None = None) -> list[tuple[str, str]]:
        return sorted(p for p in self.known if pcn is None or p[0] == pcn)

    async def values(
        self,
        months: Collection[str],
        *,
        pcn: str | None = None,
        pcn_totals_only: bool = False,
        names: Collection[str] | None = None,
    ) -> dict[tuple[str, str, str], dict[str, float]]:
        by_pcn: dict[str, list[Contribution]] = {}
        for p, share in self.shares.values():
            by_pcn.setdefault(p, []).append(share)
        out: dict[tuple[str, str, str], dict[str, float]] = {}
        for p, shares in by_pcn.items():
            counts, samples = totals(shares)
            for (scope, month, name), value in [*counts.items(), *medians_of(samples).items()]:
                wanted = (pcn is None or p == pcn) and month in months and (names is None or name in names)
                if wanted and (not pcn_totals_only or scope == ""):
                    out.setdefault((p, scope, month), {})[name] = value
        return out

    async def unsettled(
        self, months: Collection[str], as_of: datetime, pcn: str | None = None
    ) -> list[DeadlineCase]:
        cases = [s.deadline for p, s in self.shares.values() if s.deadline is not None]
        return [c for c in cases if c.month in months and (pcn is None or c.pcn_code == pcn)]

    async def waiting(self, as_of: datetime, pcn: str | None = None) -> list[WaitingEntry]:
        entries = [s.waiting for _, s in self.shares.values() if s.waiting is not None]
        return [w for w in entries if pcn is None or w.pcn_code == pcn]


class FakeMetricsUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.archive = FakeArchive()
        self.projections = FakeProjections()
        self.kept = FakeKeptFigures()

    def commit(self) -> None:
        """What the real transaction does on commit: run the after-commit hooks once."""
        hooks, self.hooks = self.hooks, []
        for hook in hooks:
            hook()


class FakeFeed:
    def __init__(self) -> None:
        self.items: list[FeedItem] = []

    def publish(self, item: FeedItem) -> None:
        self.items.append(item)


def make_context(feed: FakeFeed | None = None, now: datetime = NOW) -> MetricsContext:
    return MetricsContext(clock=lambda: now, feed=feed or FakeFeed())
