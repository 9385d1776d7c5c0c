"""An in-memory metrics unit of work: the archive keeps JSON as the table does, projections keep copies."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from datetime import UTC, datetime

from services.metrics.application.context import MetricsContext
from services.metrics.domain.events import ArchivedEvent
from services.metrics.domain.facts import FACT_CLASSES, KEY_FIELD, EscalationFact, Fact
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


class FakeMetricsUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.archive = FakeArchive()
        self.projections = FakeProjections()

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
