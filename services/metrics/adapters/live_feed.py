"""The live feed of this process: fan-out of alerts to the open `/live` streams."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator

from services.metrics.domain.live_feed import FeedItem

QUEUE_SIZE = 1000
MAX_STREAMS = 200
"""Open `/live` streams one process serves; each holds a queue, so more would let a client exhaust memory."""


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

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[FeedItem]]:
        queue: asyncio.Queue[FeedItem] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    def has_room(self) -> bool:
        """Whether another stream may open (the `/live` route answers 503 when not)."""
        return len(self._subscribers) < self._max_streams
