"""A service's deadline watchdog: a background loop that runs scans for work past its deadline.

Each pass runs every scan in one unit of work, so an escalation and its outbox event commit together.
Scans keep all their state in the database (a conditional update marks what fired), which is what
makes a watchdog safe across restarts and with two instances running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db import Database

Scan = Callable[[AsyncSession, int], Awaitable[int]]
"""(session, limit) → how many items it escalated, at most `limit`."""


class Watchdog:
    def __init__(
        self, db: Database, scans: Sequence[Scan], *, interval: float = 30.0, batch_size: int = 100
    ) -> None:
        self.db = db
        self.scans = list(scans)
        self.interval = interval
        self.batch_size = batch_size
        self.passes = 0
        """Completed passes; tests wait on it instead of on wall time."""

    async def scan_once(self) -> int:
        fired = 0
        async with self.db.transaction() as session:
            for scan in self.scans:
                fired += await scan(session, self.batch_size)
        self.passes += 1
        return fired

    async def run(self) -> None:
        while True:
            fired = await self.scan_once()
            if fired < self.batch_size:  # a full batch means more may be waiting: scan again at once
                await asyncio.sleep(self.interval)
