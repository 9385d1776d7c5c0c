"""Metrics' one subscription: a single queue bound to every v1 event, so each event is applied once."""

from __future__ import annotations

from typing import Any

from services.metrics.adapters.unit_of_work import SqlMetricsUnitOfWork
from services.metrics.application.commands import ArchiveEvent
from services.metrics.application.context import MetricsContext
from services.metrics.application.handlers.archive import archive_event
from shared.contracts.envelope import Envelope
from shared.contracts.v1 import ALL_V1
from shared.messaging.consumer import Subscription, in_unit_of_work


async def on_event(event: Envelope[Any], uow: SqlMetricsUnitOfWork, ctx: MetricsContext) -> None:
    # `event` is what parse_event validated against its contract; nothing else reaches the archive.
    await archive_event(ArchiveEvent(event), uow, ctx)


def subscriptions(ctx: MetricsContext) -> list[Subscription]:
    return [Subscription("on_event", ALL_V1, in_unit_of_work(SqlMetricsUnitOfWork, ctx, on_event))]
