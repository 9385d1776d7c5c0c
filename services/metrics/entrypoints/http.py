"""Metrics HTTP API: the monthly return (JSON/CSV), the trust view and the live feed (SSE).

Every route asks `POLICY` (application/access.py) for its action, then scopes the PCN: a PCN outside the
caller's organisation answers 404, the same as a PCN of which nothing is known.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from services.metrics.adapters.live_feed import LiveFeed
from services.metrics.adapters.unit_of_work import SqlMetricsUnitOfWork
from services.metrics.application import queries
from services.metrics.application.access import POLICY, Action
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
from shared.identity import Principal, require_scope

HEARTBEAT_SECONDS = 2.0
STREAM_SECONDS = 10.0
RETRY_AFTER_SECONDS = "5"
LAST_EVENT_ID_MAX = 64
"""A Last-Event-ID is one of our event ids (a UUID); anything longer is not looked up."""

MonthlyReader = Annotated[Principal, Depends(POLICY.requires(Action.READ_MONTHLY_RETURN))]
TrustReader = Annotated[Principal, Depends(POLICY.requires(Action.READ_TRUST_VIEW))]
LiveWatcher = Annotated[Principal, Depends(POLICY.requires(Action.WATCH_LIVE_FEED))]

LIVE_FULL: dict[int | str, dict[str, Any]] = {
    503: {"description": "Every live-feed slot of this process is taken; retry after Retry-After"}
}


def _sse(item: FeedItem) -> str:
    return f"event: alert\nid: {item['event_id']}\ndata: {json.dumps(item)}\n\n"


class _LiveStream(StreamingResponse):
    """An SSE response that gives its feed slot back however it ends (finished, disconnected, failed)."""

    def __init__(self, content: AsyncIterator[str], release: Callable[[], None]) -> None:
        super().__init__(content, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def build_router(db: Database, ctx: MetricsContext, feed: LiveFeed) -> APIRouter:
    router = APIRouter(tags=["metrics"])

    @router.get("/reports/monthly", response_model=None)
    async def get_monthly(
        principal: MonthlyReader,
        pcn: Annotated[PcnCode, Query(description="PCN code, e.g. U00123")],
        month: Month,
        format: Annotated[ReportFormat, Query(description="json or csv")] = ReportFormat.JSON,
    ) -> Response | dict[str, Any]:
        """One PCN's monthly return: a PCN manager's own PCN, or any PCN of the trust for the trust."""
        require_scope(principal, pcn)
        month = bounded_month(month, ctx.clock)
        try:
            async with SqlMetricsUnitOfWork.reading(db) as uow:
                report = await queries.monthly_report(uow, pcn, month, ctx.clock())
        except queries.UnknownPcn:
            # In the caller's scope (so known to them), just quiet so far: say so rather than "not found".
            raise HTTPException(404, detail=f"pcn: no events have been received for PCN {pcn} yet") from None
        if format is ReportFormat.CSV:
            return Response(
                report_csv(report),
                media_type="text/csv",
                headers={"Content-Disposition": f'attachment; filename="mhp-return-{pcn}-{month}.csv"'},
            )
        return JSONResponse(report)

    @router.get("/reports/trust", response_model=dict[str, Any])
    async def get_trust(principal: TrustReader, month: OptionalMonth = None) -> Response:
        """Every PCN of the trust's directory side by side, with six months of trend."""
        month = bounded_month(month, ctx.clock)
        async with SqlMetricsUnitOfWork.reading(db) as uow:
            report = await queries.trust_report(uow, month, ctx.clock(), pcns=principal.scope_pcns)
        # Plain JSON already (str, numbers, lists, dicts): encoded as it is, not walked value by value.
        return JSONResponse(report)

    @router.get("/live", response_class=StreamingResponse, responses=LIVE_FULL)
    async def live(request: Request, principal: LiveWatcher) -> StreamingResponse:
        """Server-sent events: one `alert` event per escalation or deadline breach, as it is consumed."""
        # The slot is taken here, before the stream starts, so a full process answers 503 rather than an
        # empty stream, and concurrent requests cannot all slip past the cap.
        queue = feed.open()
        if queue is None:
            raise HTTPException(
                503,
                detail="live: too many open streams; retry shortly",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        last_seen = request.headers.get("last-event-id")
        if last_seen is not None and len(last_seen) > LAST_EVENT_ID_MAX:
            last_seen = None
        scope = principal.scope_pcns

        def shown(item: FeedItem) -> bool:
            return item.get("pcn_code") in scope

        async def stream() -> AsyncIterator[str]:
            loop = asyncio.get_running_loop()
            # A stream ends after STREAM_SECONDS and the browser reconnects (retry) with Last-Event-ID:
            # the server can then shut down promptly, and nothing shown meanwhile is missed.
            closes_at = loop.time() + STREAM_SECONDS
            yield "retry: 1000\n: connected\n\n"
            sent: set[str] = set()
            for item in feed.since(last_seen):
                sent.add(str(item["event_id"]))
                if shown(item):
                    yield _sse(item)
            while loop.time() < closes_at and not await request.is_disconnected():
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if str(item["event_id"]) not in sent and shown(item):
                    yield _sse(item)

        return _LiveStream(stream(), release=lambda: feed.close(queue))

    return router
