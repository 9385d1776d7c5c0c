"""What metrics' handlers need besides the unit of work, built once in bootstrap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.metrics.domain.live_feed import FeedItem


class AlertSink(Protocol):
    """Where live alerts go once their transaction has committed (the dashboard's feed)."""

    def publish(self, item: FeedItem) -> None: ...


@dataclass(frozen=True)
class MetricsContext:
    clock: Callable[[], datetime]
    feed: AlertSink
