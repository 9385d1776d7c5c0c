"""Test-side AMQP helpers: publish the way a practice system would, capture events, read dead letters."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Self

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection, ExchangeType

from shared.contracts.envelope import Envelope
from shared.contracts.routing import EXCHANGE
from shared.messaging.senders import user_for

TRUST_CODE = "RMH"
"""The trust's organisation code in the services' default settings (`<trust>/triage`…)."""


def sender_for(event: Envelope[Any]) -> str:
    """The broker user that may send `event` (its AMQP user_id), read from its producer as consumers do."""
    return user_for(event, TRUST_CODE)


async def publish_event(url: str, event: Envelope[Any], *, user_id: str | None = None) -> None:
    """Publish one event with plain aio-pika: persistent, confirmed, message_id = event_id.

    As its sender (`sender_for`) unless `user_id` says otherwise; the test broker lets guest impersonate.
    """
    await publish_raw(
        url,
        event.model_dump_json().encode(),
        routing_key=event.routing_key,
        message_id=str(event.event_id),
        correlation_id=str(event.correlation_id),
        message_type=event.event_type,
        user_id=user_id or sender_for(event),
    )


async def publish_raw(
    url: str,
    body: bytes,
    *,
    routing_key: str,
    message_id: str | None = None,
    correlation_id: str | None = None,
    message_type: str | None = None,
    user_id: str | None = None,
) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.declare_exchange(EXCHANGE, ExchangeType.TOPIC, durable=True)
        await exchange.publish(
            aio_pika.Message(
                body,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=message_id,
                correlation_id=correlation_id,
                type=message_type,
                user_id=user_id,
            ),
            routing_key=routing_key,
        )


@dataclass
class Received:
    body: bytes
    routing_key: str
    message_id: str | None
    headers: dict[str, Any]

    def json(self) -> Any:
        return json.loads(self.body)


class EventCapture:
    """A throw-away queue bound to `mhp.events` that records every message matching its patterns."""

    def __init__(self, url: str, *patterns: str) -> None:
        self._url = url
        self._patterns = patterns
        self.messages: list[Received] = []
        self._connection: AbstractRobustConnection | None = None

    async def __aenter__(self) -> Self:
        self._connection = await aio_pika.connect_robust(self._url)
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(EXCHANGE, ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for pattern in self._patterns:
            await queue.bind(exchange, routing_key=pattern)
        await queue.consume(self._on_message, no_ack=True)
        return self

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self.messages.append(
            Received(message.body, message.routing_key or "", message.message_id, dict(message.headers))
        )

    async def __aexit__(self, *exc: object) -> None:
        if self._connection is not None:
            await self._connection.close()

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [m.json() for m in self.messages if m.json().get("event_type") == event_type]

    async def wait_for(self, count: int, *, timeout: float = 30.0) -> list[Received]:
        await eventually(
            lambda: len(self.messages) >= count,
            timeout=timeout,
            message=lambda: f"expected {count} messages, got {len(self.messages)}",
        )
        return self.messages


async def get_all(url: str, queue: str, *, expect: int, timeout: float = 30.0) -> list[Received]:
    """Take (and ack) `expect` messages from a queue, failing if they do not arrive in time."""
    connection = await aio_pika.connect(url)
    got: list[Received] = []
    async with connection:
        channel = await connection.channel()
        target = await channel.declare_queue(queue, passive=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(got) < expect and loop.time() < deadline:
            message = await target.get(fail=False)
            if message is None:
                await asyncio.sleep(0.05)
                continue
            await message.ack()
            got.append(
                Received(message.body, message.routing_key or "", message.message_id, dict(message.headers))
            )
    assert len(got) == expect, f"expected {expect} messages on {queue}, got {len(got)}"
    return got


async def queue_depth(url: str, queue: str) -> int:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        result = declared.declaration_result
        return int(result.message_count or 0) if result is not None else 0


async def eventually(
    predicate: Callable[[], bool | Awaitable[bool]],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    message: Callable[[], str] | str = "condition not met",
) -> None:
    """Poll until the predicate holds; fail with a readable message at the timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if loop.time() >= deadline:
            raise AssertionError(message() if callable(message) else message)
        await asyncio.sleep(interval)
