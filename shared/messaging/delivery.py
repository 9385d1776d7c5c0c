"""What the consumer spine talks about: subscriptions, deliveries, and the verdict on each delivery.

Services build their subscription tables from these (`Subscription`, `in_unit_of_work`); the policy that
applies deliveries is `shared.messaging.consumer`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.contracts.envelope import Envelope
from shared.contracts.routing import binding_key
from shared.errors import RuleViolation
from shared.messaging.failures import DeadLetterKind
from shared.messaging.topology import DEFAULT_DELIVERY_LIMIT, QueueSpec

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


@dataclass(frozen=True)
class Verdict:
    """What applying one delivery decided; carried out (ack, DLQ or requeue) only after the commit."""

    outcome: Outcome
    reason: str = ""
    kind: DeadLetterKind = DeadLetterKind.DEFECT


APPLIED = Verdict(Outcome.APPLIED)
DUPLICATE = Verdict(Outcome.DUPLICATE)
