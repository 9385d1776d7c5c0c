"""A clock tests set and advance, injected where services read the time (deadlines, watchdogs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Monday 16 November 2026, 10:00 in London (GMT, so also 10:00 UTC).
MONDAY_10AM = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    now: datetime = MONDAY_10AM

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
