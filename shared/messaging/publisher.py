"""Publishing with the guarantees FastStream's defaults do not give: persistent, confirmed, mandatory.

Used by the outbox relay and for dead-lettering with a reason. An unroutable message (basic.return)
and a missing confirm are failures the caller retries; nothing is considered sent until confirmed.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import aio_pika
from aio_pika.abc import AbstractRobustConnection, DeliveryMode
from pamqp.commands import Basic

from shared.contracts.routing import DEAD_LETTER_EXCHANGE, EXCHANGE


class PublishError(RuntimeError):
    """The broker did not confirm the message (nack, unroutable, timeout or lost connection)."""


class ConfirmingPublisher:
    """One robust connection and one confirm-mode channel per service process."""

    def __init__(self, url: str, *, user_id: str | None = None, confirm_timeout: float = 10.0) -> None:
        self._url = url
        # Stamped on every message; RabbitMQ refuses it unless it is this connection's login user, so
        # consumers can trust it as the sender. Default: the login user of the URL.
        self.user_id = user_id if user_id is not None else unquote(urlsplit(url).username or "guest")
        self._confirm_timeout = confirm_timeout
        self._connection: AbstractRobustConnection | None = None
        self._channel: aio_pika.abc.AbstractRobustChannel | None = None
        self._lock = asyncio.Lock()

    async def connect(self) -> None:
        async with self._lock:
            if self._connection is None or self._connection.is_closed:
                self._connection = await aio_pika.connect_robust(self._url)
            if self._channel is None or self._channel.is_closed:
                self._channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
        self._connection = None
        self._channel = None

    @property
    def connected(self) -> bool:
        """True only while the broker connection is up (a robust connection that is reconnecting is not)."""
        connection = self._connection
        return connection is not None and not connection.is_closed and connection.connected.is_set()

    async def publish(
        self,
        body: bytes,
        *,
        routing_key: str,
        message_id: uuid.UUID | str,
        correlation_id: uuid.UUID | str | None = None,
        message_type: str | None = None,
        headers: dict[str, Any] | None = None,
        timestamp: datetime | None = None,
        exchange: str = EXCHANGE,
    ) -> None:
        if self._channel is None or self._channel.is_closed:
            await self.connect()
        assert self._channel is not None
        message = aio_pika.Message(
            body,
            content_type="application/json",
            delivery_mode=DeliveryMode.PERSISTENT,
            # The event id is the message id, so a retried publish is recognisably the same message.
            message_id=str(message_id),
            correlation_id=str(correlation_id) if correlation_id else None,
            type=message_type,
            headers=headers or {},
            timestamp=timestamp,
            user_id=self.user_id,
        )
        try:
            target = await self._channel.get_exchange(exchange, ensure=False)
            # publish(timeout=) does not bound the wait for the confirm; wait_for does.
            confirmation = await asyncio.wait_for(
                target.publish(message, routing_key=routing_key, mandatory=True),
                timeout=self._confirm_timeout,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise PublishError(f"{type(exc).__name__}: {exc}") from exc
        # With on_return_raises an unroutable message raises above; anything but Basic.Ack is a
        # returned message (should the channel be reopened without that flag) and never "sent".
        if not isinstance(confirmation, Basic.Ack):
            raise PublishError(f"broker did not confirm the message ({type(confirmation).__name__})")

    async def publish_dead_letter(
        self, body: bytes, *, queue: str, properties: dict[str, Any], headers: dict[str, Any]
    ) -> None:
        """Send a message to `<queue>.dlq` through the dead-letter exchange, with confirms."""
        await self.publish(
            body,
            routing_key=queue,
            exchange=DEAD_LETTER_EXCHANGE,
            message_id=properties.get("message_id") or uuid.uuid4(),
            correlation_id=properties.get("correlation_id"),
            message_type=properties.get("type"),
            headers=headers,
        )
