"""Metrics HTTP API: the monthly return (JSON/CSV), the trust view and the live feed (SSE)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse

from services.metrics.adapters.live_feed import LiveFeed
from services.metrics.adapters.unit_of_work import SqlMetricsUnitOfWork
from services.metrics.application import queries
from services.metrics.application.context import MetricsContext
from services.metrics.domain.live_feed import FeedItem
from services.metrics.entrypoints.params import (
    Month,
    OptionalMonth,
    ReportFormat,
    bounded_month,
    report_csv,
)
from shared.contracts.envelope import PcnCode
from shared.db import Database

HEARTBEAT_SECONDS = 2.0
STREAM_SECONDS = 10.0
LAST_EVENT_ID_MAX = 64
"""A Last-Event-ID is one of our event ids (a UUID); anything longer is not looked up."""


def _sse(item: FeedItem) -> str:
    return f"event: alert\nid: {item['event_id']}\ndata: {json.dumps(item)}\n\n"


def build_router(db: Database, ctx: MetricsContext, feed: LiveFeed) -> APIRouter:
    router = APIRouter(tags=["metrics"])

    @router.get("/reports/monthly", response_model=None)
    async def get_monthly(
        pcn: Annotated[PcnCode, Query(description="PCN code, e.g. U00123")],
        month: Month,
        format: Annotated[ReportFormat, Query(description="json or csv")] = ReportFormat.JSON,
    ) -> Response | dict[str, Any]:
        month = bounded_month(month, ctx.clock)
        try:
            async with SqlMetricsUnitOfWork.reading(db) as uow:
                report = await queries.monthly_report(uow, pcn, month, ctx.clock())
        except queries.UnknownPcn:
            raise HTTPException(
                404, detail=f"pcn: no events have been received for PCN {pcn}; check the PCN code"
            ) from None
        if format is ReportFormat.CSV:
            return Response(
                report_csv(report),
                media_type="text/csv",
                headers={"Content-Disposition": f'attachment; filename="mhp-return-{pcn}-{month}.csv"'},
            )
        return report

    @router.get("/reports/trust")
    async def get_trust(month: OptionalMonth = None) -> dict[str, Any]:
        month = bounded_month(month, ctx.clock)
        async with SqlMetricsUnitOfWork.reading(db) as uow:
            return await queries.trust_report(uow, month, ctx.clock())

    @router.get("/live", response_class=StreamingResponse)
    async def live(request: Request) -> StreamingResponse:
        """Server-sent events: one `alert` event per escalation or deadline breach, as it is consumed."""
        if not feed.has_room():
            # Checked before the stream starts, so a full process answers 503 rather than an empty stream.
            raise HTTPException(
                503, detail="live: too many open streams; retry shortly", headers={"Retry-After": "5"}
            )
        last_seen = request.headers.get("last-event-id")
        if last_seen is not None and len(last_seen) > LAST_EVENT_ID_MAX:
            last_seen = None

        async def stream() -> AsyncIterator[str]:
            loop = asyncio.get_running_loop()
            # A stream ends after STREAM_SECONDS and the browser reconnects (retry) with Last-Event-ID:
            # the server can then shut down promptly, and nothing shown meanwhile is missed.
            closes_at = loop.time() + STREAM_SECONDS
            async with feed.subscribe() as queue:
                yield "retry: 1000\n: connected\n\n"
                sent: set[str] = set()
                for item in feed.since(last_seen):
                    sent.add(str(item["event_id"]))
                    yield _sse(item)
                while loop.time() < closes_at and not await request.is_disconnected():
                    try:
                        item = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_SECONDS)
                    except TimeoutError:
                        yield ": keepalive\n\n"
                        continue
                    if str(item["event_id"]) not in sent:
                        yield _sse(item)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    return router
