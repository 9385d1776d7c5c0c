"""The broker topology: one durable topic exchange for events, and per consumer a quorum queue with a DLQ.

Services declare what they consume at start-up (idempotent); ops may instead provision the same
objects from deploy/rabbitmq/definitions.json and give service users no configure permission.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, ExchangeType

from shared.contracts.routing import DEAD_LETTER_EXCHANGE, EXCHANGE

DEFAULT_DELIVERY_LIMIT = 10


@dataclass(frozen=True)
class QueueSpec:
    """A consumer's queue `<service>.<handler>` and the routing patterns bound to it."""

    name: str
    binding_keys: tuple[str, ...]
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT
    extra_arguments: dict[str, Any] = field(default_factory=dict)

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.name}.dlq"

    def arguments(self) -> dict[str, Any]:
        return {
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": self.name,
            # Quorum queues dead-letter at-least-once only with reject-publish overflow.
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
            # Bounds redelivery of a message whose handler keeps failing (RabbitMQ dead-letters it).
            "x-delivery-limit": self.delivery_limit,
            **self.extra_arguments,
        }


async def declare_exchanges(channel: AbstractChannel) -> None:
    await channel.declare_exchange(EXCHANGE, ExchangeType.TOPIC, durable=True)
    await channel.declare_exchange(DEAD_LETTER_EXCHANGE, ExchangeType.DIRECT, durable=True)


async def declare_queue(channel: AbstractChannel, spec: QueueSpec) -> None:
    events = await channel.get_exchange(EXCHANGE, ensure=False)
    dead_letters = await channel.get_exchange(DEAD_LETTER_EXCHANGE, ensure=False)
    dlq = await channel.declare_queue(
        spec.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"}
    )
    await dlq.bind(dead_letters, routing_key=spec.name)
    queue = await channel.declare_queue(spec.name, durable=True, arguments=spec.arguments())
    for key in spec.binding_keys:
        await queue.bind(events, routing_key=key)


async def declare_topology(url: str, queues: Sequence[QueueSpec] = ()) -> None:
    """Declare the exchanges and the given queues on a short-lived connection."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        await declare_exchanges(channel)
        for spec in queues:
            await declare_queue(channel, spec)
    finally:
        await connection.close()
