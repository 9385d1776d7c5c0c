"""A consumer for the batch tests: notes every event it applies, and can die by SIGKILL mid-batch.

    python -m tests.messaging.batch_probe AMQP_URL DATABASE_URL MODE

MODE `mid_batch`: killed while applying the third message of a batch (nothing of it committed);
`after_commit`: killed right after its first batch commits, before any of it is acked.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from typing import Any

from sqlmodel import Field, SQLModel

from shared.contracts.v1 import CallReceived
from shared.db import call_after_commit
from shared.messaging.consumer import PermanentFailure, Subscription
from shared.service import ServiceHost
from tests.support.probe import probe_host

QUEUE = "batchprobe.on_call_received"


class AppliedNote(SQLModel, table=True):
    """One row per application of an event: two rows for one event would be a double effect."""

    __tablename__ = "test_batch_applied_notes"
    id: int | None = Field(default=None, primary_key=True)
    event_id: uuid.UUID = Field(index=True)


def batch_probe(amqp_url: str, database_url: str, handler: Any) -> ServiceHost:
    return probe_host(
        "batchprobe",
        amqp_url=amqp_url,
        database_url=database_url,
        tables=[AppliedNote],
        subscriptions=[Subscription("on_call_received", (CallReceived,), handler)],
        delivery_limit=5,
        prefetch=32,
    )


def noting(failing: dict[str, int] | None = None) -> Any:
    """A handler that notes the event, then fails as its `reason` says (`permanent`, `transient`)."""
    calls: dict[uuid.UUID, int] = {}

    async def handler(session: Any, event: CallReceived) -> None:
        calls[event.event_id] = calls.get(event.event_id, 0) + 1
        session.add(AppliedNote(event_id=event.event_id))
        await session.flush()  # written, so the savepoint's rollback has something to undo
        if event.data.reason == "permanent":
            raise PermanentFailure("cannot apply: rule X")
        if event.data.reason == "transient" and failing is not None and failing["left"] > 0:
            failing["left"] -= 1
            raise ConnectionError("dependency briefly down")

    handler.calls = calls  # type: ignore[attr-defined]
    return handler


def _killing(mode: str) -> Any:
    applied = 0

    async def handler(session: Any, event: CallReceived) -> None:
        nonlocal applied
        applied += 1
        session.add(AppliedNote(event_id=event.event_id))
        await session.flush()
        if mode == "mid_batch" and applied == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "after_commit" and applied == 1:
            call_after_commit(session, lambda: os.kill(os.getpid(), signal.SIGKILL))

    return handler


async def _run(amqp_url: str, database_url: str, mode: str) -> None:
    host = batch_probe(amqp_url, database_url, _killing(mode))
    await host.start()
    await asyncio.sleep(120)  # the handler kills the process long before this
    await host.stop()


if __name__ == "__main__":
    asyncio.run(_run(sys.argv[1], sys.argv[2], sys.argv[3]))
