"""Consuming events: validate, deduplicate, apply a batch in one transaction, then ack, retry or dead-letter.

`MessageProcessor` holds the policy; `shared.messaging.subscriber` wires it to FastStream with manual acks,
a decoder that hands us raw bytes (so even a body that is not JSON reaches our policy) and a batcher that
hands it the deliveries that arrive together.

A batch is applied in one transaction with a SAVEPOINT per message: a message that fails rolls back only
its savepoint and is retried or dead-lettered alone, the others commit together. A verdict is final only
once that commit is done, and only then is anything acked, so a crash mid-batch redelivers every message
of it and the inbox (claimed in the same savepoint as the effect) keeps each effect exactly-once.

Ordering: a batch applies its deliveries in the order the queue delivered them, one after the other, as
the one-at-a-time consumer did; a retried message is requeued behind later ones, as before. The
handlers do not rely on the order anyway: booking and referrals apply a call's `call.triaged` by its
`decision_sequence` (compare-and-set: an older decision never replaces a newer one), referrals' ladder
climbs by compare-and-set on the rung, and metrics folds every event into its fact in any order.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.contracts.envelope import Envelope
from shared.contracts.registry import ContractError, parse_event
from shared.contracts.routing import parse_routing_key
from shared.db import AFTER_COMMIT, Database
from shared.errors import NotYet, RuleViolation
from shared.logging import get_logger
from shared.messaging import inbox
from shared.messaging.dead_letter_alarm import (
    BODY_HASH_HEADER,
    REASON_HEADER,
    DeadLetterAlarm,
    dead_letter_headers,
)
from shared.messaging.delivery import (
    APPLIED,
    DUPLICATE,
    DeadLetterSink,
    Delivery,
    Handler,
    Outcome,
    PermanentFailure,
    Subscription,
    Verdict,
    in_unit_of_work,
)
from shared.messaging.failures import DeadLetterKind, InFlight, is_transient, origin
from shared.messaging.senders import SenderCheck
from shared.messaging.topology import DEFAULT_DELIVERY_LIMIT

log = get_logger(__name__)

CONSUMED = Counter("mhp_messages_consumed_total", "Messages consumed, by outcome", ["queue", "outcome"])
HANDLE_SECONDS = Histogram("mhp_message_handle_seconds", "Time to apply one message", ["queue"])

__all__ = [
    "BODY_HASH_HEADER",
    "REASON_HEADER",
    "Delivery",
    "Handler",
    "MessageProcessor",
    "Outcome",
    "PermanentFailure",
    "Subscription",
    "Verdict",
    "in_unit_of_work",
]


class _BatchBroken(Exception):
    """A handler timed out mid-statement: the batch's connection can no longer be trusted."""


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
        """Apply one delivery and carry out its verdict (a batch of one)."""
        [outcome] = await self.process_batch(queue, subscription, [delivery])
        return outcome

    async def process_batch(
        self, queue: str, subscription: Subscription, deliveries: Sequence[Delivery]
    ) -> list[Outcome]:
        verdicts = await self.apply_batch(queue, subscription, deliveries)
        settling = (self.settle(queue, d, v) for d, v in zip(deliveries, verdicts, strict=True))
        return list(await asyncio.gather(*settling))

    async def apply_batch(
        self, queue: str, subscription: Subscription, deliveries: Sequence[Delivery]
    ) -> list[Verdict]:
        """Apply the deliveries in one transaction; returns each one's verdict once it has committed."""
        with structlog.contextvars.bound_contextvars(queue=queue), self.in_flight.track(queue):
            started = time.perf_counter()
            verdicts: dict[int, Verdict] = {}
            events: dict[int, Envelope[Any]] = {}
            for index, delivery in enumerate(deliveries):
                admitted = self._admit(subscription, delivery)
                if isinstance(admitted, Verdict):
                    verdicts[index] = admitted
                else:
                    events[index] = admitted
            if events:
                verdicts |= await self._apply_events(queue, subscription, deliveries, events)
            for _ in deliveries:
                HANDLE_SECONDS.labels(queue).observe((time.perf_counter() - started) / len(deliveries))
        return [verdicts[index] for index in range(len(deliveries))]

    async def settle(self, queue: str, delivery: Delivery, verdict: Verdict) -> Outcome:
        """Carry out a committed verdict: dead-letter it (with confirms) or back off before the requeue."""
        with structlog.contextvars.bound_contextvars(queue=queue):
            if verdict.outcome is Outcome.DEAD_LETTERED:
                outcome = await self._dead_letter(queue, delivery, verdict.reason, verdict.kind)
            elif verdict.outcome is Outcome.RETRY:
                outcome = await self._retry(queue, delivery, verdict.reason)
            else:
                outcome = verdict.outcome
        CONSUMED.labels(queue, outcome.value).inc()
        return outcome

    def _admit(self, subscription: Subscription, delivery: Delivery) -> Envelope[Any] | Verdict:
        try:
            # parse_event lets nothing but ContractError out, whatever the bytes (issue 20).
            event = parse_event(delivery.body)
            self._check_consistent(subscription, delivery, event)
        except ContractError as exc:
            return Verdict(Outcome.DEAD_LETTERED, exc.reason, DeadLetterKind.CONTRACT)
        try:
            # Only after the routing check: the broker's topic permission vouches for the routing key.
            self._senders.check(delivery.user_id, event)
        except ContractError as exc:
            return Verdict(Outcome.DEAD_LETTERED, exc.reason, DeadLetterKind.SENDER)
        return event

    async def _apply_events(
        self,
        queue: str,
        subscription: Subscription,
        deliveries: Sequence[Delivery],
        events: dict[int, Envelope[Any]],
    ) -> dict[int, Verdict]:
        decided: dict[int, Verdict] = {}
        try:
            async with self._db.transaction() as session:
                # One round trip claims the whole batch; a failed message gives its claim back.
                claimed = await inbox.claim_many(session, queue, [e.event_id for e in events.values()])
                for index, event in events.items():
                    with _bound(deliveries[index]):
                        if event.event_id not in claimed:  # applied before, or earlier in this batch
                            decided[index] = _applied(event, claimed=False)
                            continue
                        claimed.discard(event.event_id)
                        decided[index] = await self._apply_in_savepoint(session, queue, subscription, event)
            return decided
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Nothing of the batch committed (a failed commit, a savepoint that would not roll back, a
            # timeout mid-statement): apply each message on its own, as if it had come alone.
            log.warning("batch_failed", size=len(events), error=type(exc).__name__)
            # The message being applied when the batch broke timed out: it is not run a second time.
            timed_out = list(events)[len(decided)] if isinstance(exc, _BatchBroken) else None
        redone: dict[int, Verdict] = {}
        for index, event in events.items():
            with _bound(deliveries[index]):
                if index == timed_out:
                    redone[index] = self._retry_verdict(event, TimeoutError())
                else:
                    redone[index] = await self._apply_alone(queue, subscription, event)
        return redone

    async def _apply_in_savepoint(
        self, session: AsyncSession, queue: str, subscription: Subscription, event: Envelope[Any]
    ) -> Verdict:
        hooks: list[Callable[[], None]] = session.info.setdefault(AFTER_COMMIT, [])
        registered = len(hooks)
        savepoint = await session.begin_nested()
        try:
            async with asyncio.timeout(self._handler_timeout):
                await subscription.handler(session, event)
        except TimeoutError as exc:
            # Cancelled mid-statement, the connection's state is unknown: the whole batch is redone.
            raise _BatchBroken() from exc
        except Exception as exc:
            # Only this message's work is undone; a rollback that fails escapes and fails the batch.
            await savepoint.rollback()
            await inbox.release(session, queue, event.event_id)
            del hooks[registered:]  # its after-commit hooks belong to work that will never commit
            return await self._failed(queue, event, exc)
        await savepoint.commit()
        return _applied(event, claimed=True)

    async def _apply_alone(self, queue: str, subscription: Subscription, event: Envelope[Any]) -> Verdict:
        try:
            async with asyncio.timeout(self._handler_timeout), self._db.transaction() as session:
                claimed = await inbox.claim(session, queue, event.event_id)
                if claimed:
                    await subscription.handler(session, event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return await self._failed(queue, event, exc)
        return _applied(event, claimed=claimed)

    async def _failed(self, queue: str, event: Envelope[Any], exc: Exception) -> Verdict:
        if isinstance(exc, RuleViolation):
            return Verdict(Outcome.DEAD_LETTERED, exc.reason, DeadLetterKind.RULE)
        if isinstance(exc, NotYet):
            return Verdict(Outcome.RETRY, exc.reason)
        if isinstance(exc, IntegrityError):
            # A concurrent delivery of the same event may have committed first: then this is a duplicate.
            async with self._db.read() as session:
                if await inbox.already_processed(session, queue, event.event_id):
                    return DUPLICATE
            return Verdict(Outcome.RETRY, "IntegrityError")
        return self._retry_verdict(event, exc)

    @staticmethod
    def _retry_verdict(event: Envelope[Any], exc: BaseException) -> Verdict:
        error = type(exc).__name__
        if is_transient(exc):  # database locked, broker, timeouts: a redelivery may succeed
            log.warning(
                "handler_failed_transient", event_type=event.event_type, error=error, where=origin(exc)
            )
            return Verdict(Outcome.RETRY, error)
        # Anything else is a property of this message (or a bug it exposes): retrying cannot help.
        log.error("handler_failed_permanent", event_type=event.event_type, error=error, where=origin(exc))
        reason = f"{event.event_type} cannot be applied ({error})"
        return Verdict(Outcome.DEAD_LETTERED, reason, DeadLetterKind.DEFECT)

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


def _bound(delivery: Delivery) -> contextlib.AbstractContextManager[Any]:
    # The batch runs in its own task: bind each message's ids as the middleware does for its delivery.
    return structlog.contextvars.bound_contextvars(
        event_id=delivery.message_id, correlation_id=delivery.correlation_id
    )


def _applied(event: Envelope[Any], *, claimed: bool) -> Verdict:
    if not claimed:
        log.info("duplicate_ignored", event_type=event.event_type)
        return DUPLICATE
    log.debug("event_applied", event_type=event.event_type)
    return APPLIED
