"""The outbox relay: publishes committed rows with confirms, retries with backoff, sweeps after crashes.

Each pass claims a batch under a fresh token and lease, publishes the batch concurrently, and marks
confirmed rows published. A relay that dies mid-pass leaves its rows claimed; once the lease expires
any relay (this one after a restart, or another replica) claims and publishes them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta
from typing import Protocol

from prometheus_client import Counter

from shared.db import Database, utcnow
from shared.logging import get_logger
from shared.messaging import outbox
from shared.messaging.outbox import ClaimedMessage

log = get_logger(__name__)

PUBLISHED = Counter("mhp_outbox_published_total", "Outbox rows published and confirmed", ["event_type"])
PUBLISH_FAILURES = Counter(
    "mhp_outbox_publish_failures_total", "Outbox publishes that failed", ["event_type"]
)


class Publisher(Protocol):
    async def publish(
        self,
        body: bytes,
        *,
        routing_key: str,
        message_id: uuid.UUID | str,
        correlation_id: uuid.UUID | str | None = None,
        message_type: str | None = None,
    ) -> None: ...


def backoff(attempts: int, *, base: float = 0.5, cap: float = 60.0) -> timedelta:
    """Exponential backoff for a row that failed `attempts` times."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        publisher: Publisher,
        *,
        batch_size: int = 200,
        poll_interval: float = 1.0,
        lease: timedelta = timedelta(seconds=30),
        name: str = "relay",
    ) -> None:
        self._db = db
        self._publisher = publisher
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._lease = lease
        self._wake = asyncio.Event()
        self._stopping = False
        self.name = name

    def stop(self) -> None:
        """Ask `run` to return after the pass in progress, so no claimed row waits out its lease."""
        self._stopping = True
        self._wake.set()

    def notify(self) -> None:
        """Called after a commit that may have staged events: publish now rather than at the next poll."""
        self._wake.set()

    async def run_once(self) -> int:
        """One pass: claim, publish, record. Returns how many rows were published."""
        token = uuid.uuid4()
        async with self._db.transaction() as session:
            batch = await outbox.claim_batch(session, token=token, limit=self._batch_size, lease=self._lease)
        if not batch:
            return 0
        results = await asyncio.gather(*(self._publish(m) for m in batch), return_exceptions=True)
        published: list[int] = []
        failures: dict[int, str] = {}
        retry_at = {}
        for message, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                failures[message.id] = f"{type(result).__name__}: {result}"
                retry_at[message.id] = utcnow() + backoff(message.attempts)
                PUBLISH_FAILURES.labels(message.event_type).inc()
            else:
                published.append(message.id)
                PUBLISHED.labels(message.event_type).inc()
        async with self._db.transaction() as session:
            await outbox.mark_published(session, token=token, ids=published)
            await outbox.release_failed(session, token=token, failures=failures, retry_at=retry_at)
        if failures:
            log.warning(
                "outbox_publish_failed", relay=self.name, failed=len(failures), published=len(published)
            )
        return len(published)

    async def _publish(self, message: ClaimedMessage) -> None:
        await self._publisher.publish(
            message.body,
            routing_key=message.routing_key,
            message_id=message.event_id,
            correlation_id=message.correlation_id,
            message_type=message.event_type,
        )

    async def run(self) -> None:
        """Publish until stopped or cancelled; polling also sweeps rows left behind by a crashed relay."""
        log.info("outbox_relay_started", relay=self.name)
        while not self._stopping:
            try:
                published = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be briefly unavailable: keep the relay alive
                log.error("outbox_relay_pass_failed", relay=self.name, error=type(exc).__name__)
                published = 0
                await asyncio.sleep(self._poll_interval)
            if published >= self._batch_size or self._stopping:
                continue  # more may be waiting (or stop was asked for: leave the loop now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval)
            self._wake.clear()
