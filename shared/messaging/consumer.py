"""Consuming events: validate, deduplicate, apply in one transaction, and decide ack / retry / dead-letter.

`MessageProcessor.process` holds the policy; `register_subscriptions` wires it to FastStream with manual
acks and a decoder that hands us raw bytes, so even a body that is not JSON reaches our policy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

import structlog
from faststream.middlewares import AckPolicy
from faststream.rabbit import QueueType, RabbitBroker, RabbitQueue
from faststream.rabbit.annotations import RabbitMessage
from prometheus_client import Counter, Histogram
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.contracts.envelope import Envelope
from shared.contracts.registry import ContractError, parse_event
from shared.contracts.routing import binding_key, parse_routing_key
from shared.db import Database
from shared.errors import NotYet, RuleViolation
from shared.logging import get_logger
from shared.messaging import inbox
from shared.messaging.dead_letter_alarm import (
    BODY_HASH_HEADER,
    REASON_HEADER,
    DeadLetterAlarm,
    dead_letter_headers,
)
from shared.messaging.failures import DeadLetterKind, InFlight, is_transient, origin
from shared.messaging.senders import SenderCheck
from shared.messaging.topology import DEFAULT_DELIVERY_LIMIT, QueueSpec

log = get_logger(__name__)

CONSUMED = Counter("mhp_messages_consumed_total", "Messages consumed, by outcome", ["queue", "outcome"])
HANDLE_SECONDS = Histogram("mhp_message_handle_seconds", "Time to apply one message", ["queue"])

__all__ = ["BODY_HASH_HEADER", "REASON_HEADER", "MessageProcessor", "Subscription", "in_unit_of_work"]

Handler = Callable[[AsyncSession, Any], Awaitable[None]]
"""What the spine calls: the transaction's session (inbox already claimed) and the validated event."""

UowT = TypeVar("UowT")
CtxT = TypeVar("CtxT")


def in_unit_of_work(
    unit_of_work: Callable[[AsyncSession], UowT],
    ctx: CtxT,
    consumer: Callable[[Any, UowT, CtxT], Awaitable[None]],
) -> Handler:
    """A service's `on_<event>(event, uow, ctx)` as the spine's handler: the session becomes the unit of work.

    Every service's `entrypoints/amqp.py` builds its subscription table with it, so consumers have the
    same shape as command handlers and never see a session.
    """

    async def handle(session: AsyncSession, event: Any) -> None:
        await consumer(event, unit_of_work(session), ctx)

    return handle


class PermanentFailure(RuleViolation):
    """Raised by a handler when a valid message can never be applied. The reason must name no patient."""


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"
    RETRY = "retry"


@dataclass(frozen=True)
class Subscription:
    """One handler of a service: its queue is `<service>.<name>`, bound to the listed event types."""

    name: str
    events: tuple[type[Envelope[Any]], ...]
    handler: Handler
    pcn_code: str = "*"

    def queue_spec(self, service: str, delivery_limit: int = DEFAULT_DELIVERY_LIMIT) -> QueueSpec:
        keys = tuple(binding_key(e.EVENT_TYPE, e.MAJOR, self.pcn_code) for e in self.events)
        return QueueSpec(name=f"{service}.{self.name}", binding_keys=keys, delivery_limit=delivery_limit)


class DeadLetterSink(Protocol):
    async def publish_dead_letter(
        self, body: bytes, *, queue: str, properties: dict[str, Any], headers: dict[str, Any]
    ) -> None: ...


@dataclass(frozen=True)
class Delivery:
    """What the processor needs of an AMQP delivery (small, so the policy is testable without a broker)."""

    body: bytes
    routing_key: str
    message_id: str | None
    correlation_id: str | None
    message_type: str | None
    headers: dict[str, Any]
    user_id: str | None = None
    """AMQP `user_id`: RabbitMQ refuses a publish whose user_id is not the connection's login."""

    @property
    def delivery_count(self) -> int:
        """How many times this message was delivered before (quorum queues set x-delivery-count)."""
        value = self.headers.get("x-delivery-count", 0)
        return int(value) if isinstance(value, int | str) and str(value).isdigit() else 0


class MessageProcessor:
    def __init__(
        self,
        *,
        db: Database,
        dead_letters: DeadLetterSink,
        senders: SenderCheck,
        delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
        retry_delay: float = 0.5,
        handler_timeout: float = 30.0,
    ) -> None:
        self._db = db
        self._dead_letters = dead_letters
        self._senders = senders
        self._delivery_limit = delivery_limit
        self._retry_delay = retry_delay
        self._handler_timeout = handler_timeout
        # Counts every dead letter; escalates a clinical one to the platform operator (never raises).
        self.alarm = DeadLetterAlarm(db, senders, timeout=handler_timeout)
        self.in_flight = InFlight()
        """Deliveries being processed, per queue: readiness reports a queue whose oldest one stops moving."""

    async def process(self, queue: str, subscription: Subscription, delivery: Delivery) -> Outcome:
        with structlog.contextvars.bound_contextvars(queue=queue), self.in_flight.track(queue):
            started = time.perf_counter()
            outcome = await self._process(queue, subscription, delivery)
            HANDLE_SECONDS.labels(queue).observe(time.perf_counter() - started)
            CONSUMED.labels(queue, outcome.value).inc()
            return outcome

    async def _process(self, queue: str, subscription: Subscription, delivery: Delivery) -> Outcome:
        try:
            # parse_event lets nothing but ContractError out, whatever the bytes (issue 20).
            event = parse_event(delivery.body)
            self._check_consistent(subscription, delivery, event)
        except ContractError as exc:
            return await self._dead_letter(queue, delivery, exc.reason, DeadLetterKind.CONTRACT)
        try:
            # Only after the routing check: the broker's topic permission vouches for the routing key.
            self._senders.check(delivery.user_id, event)
        except ContractError as exc:
            return await self._dead_letter(queue, delivery, exc.reason, DeadLetterKind.SENDER)

        consumer = queue
        try:
            async with asyncio.timeout(self._handler_timeout), self._db.transaction() as session:
                if not await inbox.claim(session, consumer, event.event_id):
                    log.info("duplicate_ignored", event_type=event.event_type)
                    return Outcome.DUPLICATE
                await subscription.handler(session, event)
        except RuleViolation as exc:
            return await self._dead_letter(queue, delivery, exc.reason, DeadLetterKind.RULE)
        except NotYet as exc:
            return await self._retry(queue, delivery, exc.reason)
        except IntegrityError:
            # A concurrent delivery of the same event may have committed first: then this is a duplicate.
            async with self._db.read() as session:
                if await inbox.already_processed(session, consumer, event.event_id):
                    return Outcome.DUPLICATE
            return await self._retry(queue, delivery, "IntegrityError")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = type(exc).__name__
            if is_transient(exc):  # database locked, broker, timeouts: a redelivery may succeed
                log.warning(
                    "handler_failed_transient", event_type=event.event_type, error=error, where=origin(exc)
                )
                return await self._retry(queue, delivery, error)
            # Anything else is a property of this message (or a bug it exposes): retrying cannot help.
            log.error("handler_failed_permanent", event_type=event.event_type, error=error, where=origin(exc))
            reason = f"{event.event_type} cannot be applied ({error})"
            return await self._dead_letter(queue, delivery, reason, DeadLetterKind.DEFECT)
        log.debug("event_applied", event_type=event.event_type)
        return Outcome.APPLIED

    @staticmethod
    def _check_consistent(subscription: Subscription, delivery: Delivery, event: Envelope[Any]) -> None:
        if type(event) not in subscription.events:
            raise ContractError(f"{event.event_type} is not consumed by this queue")
        if delivery.message_id and delivery.message_id != str(event.event_id):
            raise ContractError("AMQP message_id does not match event_id")
        try:
            event_type, major, pcn_code, practice_ods = parse_routing_key(delivery.routing_key)
        except ValueError:
            raise ContractError("routing key is not <event_type>.v<major>.<pcn>.<practice>") from None
        # Broker permissions confine a publisher by routing key; the body must not claim another PCN.
        if (event_type, major, pcn_code, practice_ods) != (
            event.event_type,
            event.MAJOR,
            event.pcn_code,
            event.practice_ods,
        ):
            raise ContractError("routing key does not match the envelope (type, version, PCN or practice)")

    async def _retry(self, queue: str, delivery: Delivery, error: str) -> Outcome:
        attempts = delivery.delivery_count + 1
        if attempts >= self._delivery_limit:
            reason = f"gave up after {attempts} attempts: {error}"
            return await self._dead_letter(queue, delivery, reason, DeadLetterKind.RETRIES_EXHAUSTED)
        # Back off before requeueing so a failing dependency is not hammered in a hot loop.
        await asyncio.sleep(min(5.0, self._retry_delay * 2 ** (attempts - 1)))
        return Outcome.RETRY

    async def _dead_letter(
        self, queue: str, delivery: Delivery, reason: str, kind: DeadLetterKind
    ) -> Outcome:
        log.warning("message_dead_lettered", reason=reason, kind=kind.value)
        headers = dead_letter_headers(
            queue=queue,
            routing_key=delivery.routing_key,
            reason=reason,
            kind=kind,
            body=delivery.body,
            user_id=delivery.user_id,
        )
        properties = {
            # Without a message id, every consumer's copy of one bad body still shares one (its hash),
            # so `mhp dlq list` can show it once.
            "message_id": delivery.message_id or f"sha256:{headers[BODY_HASH_HEADER][:32]}",
            "correlation_id": delivery.correlation_id,
            "type": delivery.message_type,
        }
        try:
            await self._dead_letters.publish_dead_letter(
                delivery.body, queue=queue, properties=properties, headers=headers
            )
        except Exception as exc:
            log.error("dead_letter_publish_failed", error=type(exc).__name__)
            await asyncio.sleep(self._retry_delay)
            return Outcome.RETRY
        # Only once it is safely in its DLQ: counted, and escalated when it is a clinical event.
        await self.alarm.dead_lettered(queue, delivery.body, delivery.routing_key, kind)
        return Outcome.DEAD_LETTERED


async def _raw_body(message: Any) -> bytes:
    # FastStream's default decoder drops a body that is not JSON before the handler runs; we want it.
    body: bytes = message.body
    return body


def register_subscriptions(
    broker: RabbitBroker, service: str, subscriptions: Sequence[Subscription], processor: MessageProcessor
) -> list[str]:
    """Attach every subscription of a service to the broker; returns the queue names."""
    queues = []
    for subscription in subscriptions:
        queue = f"{service}.{subscription.name}"
        queues.append(queue)
        _subscribe(broker, queue, subscription, processor)
    return queues


def _subscribe(
    broker: RabbitBroker, queue: str, subscription: Subscription, processor: MessageProcessor
) -> None:
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
            outcome = await processor.process(queue, subscription, delivery)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The policy itself failed (it should not): requeue rather than leave the delivery unacked;
            # the quorum queue's delivery limit dead-letters it if this keeps happening.
            outcome = Outcome.RETRY
        if outcome is Outcome.RETRY:
            await msg.nack(requeue=True)
        else:
            await msg.ack()


def service_of(queue: str) -> str:
    return queue.split(".", 1)[0]
