"""Which handler failures are worth retrying, and which deliveries have stopped moving.

Retrying is for the world outside the message (a locked or restarting database, the broker, a timeout);
a message that breaks a rule or trips a bug fails the same way every time, so it is dead-lettered at once
instead of being redelivered to the delivery limit.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from itertools import count

from aiormq.exceptions import AMQPError
from sqlalchemy import exc as sa_exc


class DeadLetterKind(StrEnum):
    """Why a consumer dead-lettered a delivery, coarsely: the `reason` label of mhp_dead_letters_total."""

    CONTRACT = "contract"
    """The body is not a valid catalogue event, or its envelope disagrees with its routing."""
    SENDER = "sender"
    """The broker-validated sender may not send this event (or not for that organisation)."""
    RULE = "rule"
    """A valid event that breaks a domain rule (RuleViolation): it can never be applied as it is."""
    DEFECT = "defect"
    """The handler failed on it in a way a retry cannot cure: a bug this message exposes."""
    RETRIES_EXHAUSTED = "retries_exhausted"
    """A transient failure (or a "not yet") outlasted the delivery limit."""


# PostgreSQL SQLSTATEs a retry can cure: serialization failure, deadlock, lock not available,
# query cancelled (statement timeout), admin shutdown, cannot connect now, too many connections.
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57014", "57P01", "57P03", "53300"}


def is_transient(error: BaseException) -> bool:
    """Infrastructure trouble a redelivery may get past; everything else is permanent."""
    if isinstance(error, TimeoutError | ConnectionError | OSError | AMQPError):
        return True
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True  # SQLite "database is locked", a dropped connection, an exhausted pool
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        original = error.orig
        state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
        return state in _TRANSIENT_SQLSTATES
    return False


def origin(error: BaseException) -> str:
    """`module.py:line` of the innermost frame: enough to find a bug, without the message's values."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"


class InFlight:
    """Deliveries being processed per queue, with when each started (monotonic seconds)."""

    def __init__(self) -> None:
        self._started: dict[str, dict[int, float]] = {}
        self._ids = count()

    @contextmanager
    def track(self, queue: str) -> Iterator[None]:
        token = next(self._ids)
        self._started.setdefault(queue, {})[token] = time.monotonic()
        try:
            yield
        finally:
            self._started[queue].pop(token, None)

    def oldest_age(self, queue: str) -> float:
        """Seconds the oldest unfinished delivery of `queue` has been in processing (0 if none)."""
        started = self._started.get(queue)
        return time.monotonic() - min(started.values()) if started else 0.0

    def stuck(self, queues: list[str], threshold: float) -> list[str]:
        """Queues whose oldest in-flight delivery has been processing for longer than `threshold`."""
        return [queue for queue in queues if self.oldest_age(queue) > threshold]
