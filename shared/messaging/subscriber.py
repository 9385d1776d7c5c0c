"""Wiring the consumer policy to FastStream: manual acks, raw bodies, and deliveries applied in batches.

aiormq runs every delivery's handler as its own task, so with a prefetch of N up to N deliveries of a queue
are in hand at once. Each handler hands its delivery to the queue's `Batcher` and waits for the verdict;
the batcher applies whatever has gathered (up to `max_batch`) in one transaction, and each handler acks,
requeues or dead-letters its own delivery only once the transaction holding its effect has committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import structlog
from faststream.middlewares import AckPolicy
from faststream.rabbit import QueueType, RabbitBroker, RabbitQueue
from faststream.rabbit.annotations import RabbitMessage

from shared.logging import get_logger
from shared.messaging.consumer import Delivery, MessageProcessor, Outcome, Subscription, Verdict

log = get_logger(__name__)

DEFAULT_MAX_BATCH = 32
"""Deliveries applied in one transaction at most (the services' default prefetch)."""


class Batcher:
    """Gathers one queue's deliveries and applies them in batches, one batch at a time, in arrival order."""

    def __init__(
        self,
        processor: MessageProcessor,
        queue: str,
        subscription: Subscription,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        self._processor = processor
        self._queue = queue
        self.subscription = subscription
        self._max_batch = max(1, max_batch)
        self._pending: list[tuple[Delivery, asyncio.Future[Verdict]]] = []
        self._draining: asyncio.Task[None] | None = None

    async def submit(self, delivery: Delivery) -> Verdict:
        """The committed verdict for `delivery` (applied, duplicate, dead-letter or retry)."""
        future: asyncio.Future[Verdict] = asyncio.get_running_loop().create_future()
        self._pending.append((delivery, future))
        if self._draining is None or self._draining.done():
            # Its own task: a handler cancelled by a connection drop must not cancel the others' batch.
            self._draining = asyncio.create_task(self._drain(), name=f"batch:{self._queue}")
        return await future

    async def _drain(self) -> None:
        # The task copied the context of the delivery that started it: its ids are not the batch's.
        structlog.contextvars.unbind_contextvars("event_id", "correlation_id")
        # One turn of the loop lets the deliveries read in the same frame batch join the first batch.
        await asyncio.sleep(0)
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                verdicts = await self._processor.apply_batch(
                    self._queue, self.subscription, [delivery for delivery, _ in batch]
                )
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                raise
            except Exception as exc:
                # The policy itself failed (it should not): requeue rather than leave deliveries unacked;
                # the quorum queue's delivery limit dead-letters one if this keeps happening.
                log.error("batch_policy_failed", queue=self._queue, error=type(exc).__name__)
                verdicts = [Verdict(Outcome.RETRY, type(exc).__name__)] * len(batch)
            for (_, future), verdict in zip(batch, verdicts, strict=True):
                if not future.done():  # its handler may have been cancelled meanwhile
                    future.set_result(verdict)


async def _raw_body(message: Any) -> bytes:
    # FastStream's default decoder drops a body that is not JSON before the handler runs; we want it.
    body: bytes = message.body
    return body


def register_subscriptions(
    broker: RabbitBroker,
    service: str,
    subscriptions: Sequence[Subscription],
    processor: MessageProcessor,
    *,
    max_batch: int = DEFAULT_MAX_BATCH,
) -> list[str]:
    """Attach every subscription of a service to the broker; returns the queue names."""
    queues = []
    for subscription in subscriptions:
        queue = f"{service}.{subscription.name}"
        queues.append(queue)
        _subscribe(broker, queue, Batcher(processor, queue, subscription, max_batch), processor)
    return queues


def _subscribe(broker: RabbitBroker, queue: str, batcher: Batcher, processor: MessageProcessor) -> None:
    subscription = batcher.subscription

    # declare=False: the queue was declared by declare_topology (or provisioned by ops) with its DLX
    # arguments; FastStream only checks it exists.
    @broker.subscriber(
        RabbitQueue(queue, queue_type=QueueType.QUORUM, declare=False),
        ack_policy=AckPolicy.MANUAL,
        decoder=_raw_body,
        title=queue,
        description=f"{service_of(queue)} consumes {', '.join(e.EVENT_TYPE for e in subscription.events)}",
    )
    async def consume(msg: RabbitMessage) -> None:
        raw = msg.raw_message
        delivery = Delivery(
            body=raw.body,
            routing_key=raw.routing_key or "",
            message_id=raw.message_id,
            correlation_id=raw.correlation_id,
            message_type=raw.type,
            headers=dict(raw.headers or {}),
            user_id=raw.user_id,
        )
        try:
            verdict = await batcher.submit(delivery)
            outcome = await processor.settle(queue, delivery, verdict)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Settling failed (it should not): requeue rather than leave the delivery unacked.
            outcome = Outcome.RETRY
        if outcome is Outcome.RETRY:
            await msg.nack(requeue=True)
        else:
            await msg.ack()


def service_of(queue: str) -> str:
    return queue.split(".", 1)[0]
