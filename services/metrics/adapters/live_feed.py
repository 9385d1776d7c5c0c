"""The live feed of this process: fan-out of alerts to the open `/live` streams."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator

from services.metrics.domain.live_feed import FeedItem

QUEUE_SIZE = 1000
MAX_STREAMS = 50
"""Open `/live` streams one process serves (`METRICS_LIVE_FEED_MAX_CONNECTIONS`); each holds a queue and a
connection, so without a cap a client could exhaust memory and sockets."""


class LiveFeed:
    """Keeps the last `keep` alerts for reconnecting browsers and hands each new one to every stream."""

    def __init__(self, keep: int = 50, max_streams: int = MAX_STREAMS) -> None:
        self._subscribers: set[asyncio.Queue[FeedItem]] = set()
        self._max_streams = max_streams
        self.recent: deque[FeedItem] = deque(maxlen=keep)

    def publish(self, item: FeedItem) -> None:
        self.recent.append(item)
        for queue in list(self._subscribers):
            if queue.full():
                continue  # a stalled browser must not hold up the consumer
            queue.put_nowait(item)

    def since(self, event_id: str | None) -> list[FeedItem]:
        """Recent items after `event_id` (a reconnecting browser's Last-Event-ID); none if unknown."""
        items = list(self.recent)
        ids = [str(i["event_id"]) for i in items]
        if event_id is None or event_id not in ids:
            return []
        return items[ids.index(event_id) + 1 :]

    def open(self) -> asyncio.Queue[FeedItem] | None:
        """A new stream's queue, or None when the cap is reached (the `/live` route answers 503).

        Taken in the route, before the response starts, so that the check and the taking of the slot are
        one step: concurrent requests cannot all pass a check and then exceed the cap.
        """
        if len(self._subscribers) >= self._max_streams:
            return None
        queue: asyncio.Queue[FeedItem] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subscribers.add(queue)
        return queue

    def close(self, queue: asyncio.Queue[FeedItem]) -> None:
        self._subscribers.discard(queue)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[FeedItem]]:
        queue = self.open()
        if queue is None:
            raise FeedFull
        try:
            yield queue
        finally:
            self.close(queue)

    @property
    def open_streams(self) -> int:
        return len(self._subscribers)

    def has_room(self) -> bool:
        """Whether another stream may open."""
        return len(self._subscribers) < self._max_streams


class FeedFull(Exception):
    """Every stream slot of this process is taken."""
