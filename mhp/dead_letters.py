"""`mhp dead-letters`: every dead-lettered message of the platform, one line per message.

An event that every consumer refuses (say a `call.received` the contract refuses) lands in the DLQ of
each queue it was routed to: triage's and metrics'. Operators should see *one* bad input, not one per
consumer, so the view groups the copies by AMQP `message_id` (the event id, the id the sender gave a body
that never parsed, or the body's hash when it gave none) together with the body's hash, and lists the
queues and reasons beside it. Reading is a peek: the messages are
taken without acknowledgement and the channel is closed, so the broker puts every one back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from shared.messaging.consumer import BODY_HASH_HEADER, REASON_HEADER


@dataclass
class DeadLetter:
    """One bad input and every queue that dead-lettered it."""

    message_id: str
    event_type: str | None
    queues: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    first_at: str | None = None

    @property
    def copies(self) -> int:
        return len(self.queues)


def group(messages: Iterable[tuple[str, AbstractIncomingMessage]]) -> list[DeadLetter]:
    """Group dead-lettered copies by message id (a copy without one stands alone)."""
    grouped: dict[str, DeadLetter] = {}
    for index, (queue, message) in enumerate(messages):
        headers = message.headers or {}
        # One bad input = one message id *and* one body: a sender reusing another message's id with
        # other bytes does not merge into that message's line.
        message_id = message.message_id or f"<no message id #{index}>"
        body = str(headers[BODY_HASH_HEADER]) if BODY_HASH_HEADER in headers else f"#{index}"
        key = f"{message_id} {body}"
        letter = grouped.setdefault(key, DeadLetter(message_id, message.type))
        letter.queues.append(queue)
        reason = str(headers.get(REASON_HEADER, "dead-lettered by the broker (delivery limit)"))
        if reason not in letter.reasons:
            letter.reasons.append(reason)
        at = headers.get("x-mhp-dead-lettered-at")
        if at is not None and (letter.first_at is None or str(at) < letter.first_at):
            letter.first_at = str(at)
    return sorted(grouped.values(), key=lambda d: d.first_at or "")


async def peek(url: str, dead_letter_queues: Iterable[str], *, limit: int = 10_000) -> list[DeadLetter]:
    """Read (without removing) up to `limit` messages from each dead-letter queue."""
    taken: list[tuple[str, AbstractIncomingMessage]] = []
    connection = await aio_pika.connect(url)
    async with connection:
        for queue_name in dead_letter_queues:
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(queue_name, passive=True)
            except aio_pika.exceptions.ChannelClosed:
                continue  # this service's queues are not provisioned on this broker
            for _ in range(limit):
                message = await queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                taken.append((queue_name, message))
            await channel.close()  # unacknowledged: every message goes back to its queue
    return group(taken)
