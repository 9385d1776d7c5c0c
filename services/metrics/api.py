"""Metrics HTTP API: the monthly return (JSON/CSV), the trust view, the live feed (SSE) and the dashboard."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from services.metrics import charts, domain
from services.metrics.handlers import MetricsContext, UnknownPcn, monthly_report, recent_alerts, trust_view
from shared.contracts.codes import TriageCode
from shared.contracts.envelope import PcnCode
from shared.db import Database

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
HEARTBEAT_SECONDS = 2.0
STREAM_SECONDS = 10.0


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


Month = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM (Europe/London month)")]


def _sse(item: dict[str, Any]) -> str:
    return f"event: alert\nid: {item['event_id']}\ndata: {json.dumps(item)}\n\n"


def report_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["pcn", "month", "scope", "section", "item", "value"])
    for scope, section, item, value in domain.flatten(report):
        writer.writerow(
            [report["pcn"], report["month"], scope, section, item, "" if value is None else value]
        )
    return out.getvalue()


def build_router(db: Database, ctx: MetricsContext) -> APIRouter:
    router = APIRouter(tags=["metrics"])

    def current_month() -> str:
        month = domain.month_of(ctx.clock())
        assert month is not None
        return month

    @router.get("/reports/monthly", response_model=None)
    async def get_monthly(
        pcn: Annotated[PcnCode, Query(description="PCN code, e.g. U00123")],
        month: Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM (Europe/London month)")],
        format: Annotated[ReportFormat, Query(description="json or csv")] = ReportFormat.JSON,
    ) -> Response | dict[str, Any]:
        try:
            report = await monthly_report(db, pcn, month, ctx.clock())
        except UnknownPcn:
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
    async def get_trust(month: Month = None) -> dict[str, Any]:
        return await trust_view(db, month or current_month(), ctx.clock())

    @router.get("/live", response_class=StreamingResponse)
    async def live(request: Request) -> StreamingResponse:
        """Server-sent events: one `alert` event per escalation or deadline breach, as it is consumed."""

        last_seen = request.headers.get("last-event-id")

        async def stream() -> AsyncIterator[str]:
            loop = asyncio.get_running_loop()
            # A stream ends after STREAM_SECONDS and the browser reconnects (retry) with Last-Event-ID:
            # the server can then shut down promptly, and nothing shown meanwhile is missed.
            closes_at = loop.time() + STREAM_SECONDS
            async with ctx.feed.subscribe() as queue:
                yield "retry: 1000\n: connected\n\n"
                sent: set[str] = set()
                for item in ctx.feed.since(last_seen):
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

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def dashboard(request: Request, month: Month = None) -> HTMLResponse:
        view = await trust_view(db, month or current_month(), ctx.clock())
        pcns = view["pcns"]
        flagged = {
            metric: frozenset(p for p, row in pcns.items() if row["flags"][metric])
            for metric in ("dna_rate", "deadline_met_rate")
        }
        svg = {
            "dna": charts.bar_chart(
                [(p, r["dna_rate"]) for p, r in pcns.items()],
                title=f"DNA rate by PCN, {view['month']}",
                fmt=charts.percent,
                flagged=flagged["dna_rate"],
            ),
            "deadline": charts.bar_chart(
                [(p, r["deadline_met_rate"]) for p, r in pcns.items()],
                title=f"Seen within the UK MHTS deadline, {view['month']}",
                fmt=charts.percent,
                maximum=1.0,
                flagged=flagged["deadline_met_rate"],
            ),
            "dna_trend": charts.line_chart(
                view["months"],
                [(p, [t["dna_rate"] for t in ts]) for p, ts in view["trends"].items()],
                title="DNA rate by PCN over six months",
                fmt=charts.percent,
            ),
            "capacity_trend": charts.line_chart(
                view["months"],
                [(p, [t["utilisation"] for t in ts]) for p, ts in view["trends"].items()],
                title="Capacity used (booked ÷ bookable minutes) by PCN",
                fmt=charts.percent,
            ),
            "codes": charts.bar_chart(
                _deadline_by_code(view["response_times"]),
                title="Seen within deadline by triage code (all PCNs)",
                fmt=charts.percent,
                maximum=1.0,
            ),
        }
        async with db.read() as session:
            alerts = await recent_alerts(session)
        return TEMPLATES.TemplateResponse(
            request,
            "trust.html",
            {
                "view": view,
                "svg": {k: Markup(v) for k, v in svg.items()},  # noqa: S704 - built by charts.py, all text escaped
                "alerts": alerts,
                "flag_rules": view["flag_rules"],
            },
        )

    @router.get("/dashboard/pcn/{pcn}", response_class=HTMLResponse, include_in_schema=False)
    async def pcn_page(request: Request, pcn: PcnCode, month: Month = None) -> HTMLResponse:
        month = month or current_month()
        try:
            report = await monthly_report(db, pcn, month, ctx.clock())
        except UnknownPcn:
            raise HTTPException(404, detail=f"pcn: no events have been received for PCN {pcn}") from None
        view = await trust_view(db, month, ctx.clock())
        trend = view["trends"].get(pcn, [])
        svg = {
            "capacity": charts.line_chart(
                view["months"],
                [
                    ("bookable minutes", [t["bookable_minutes"] for t in trend]),
                    ("booked minutes", [t["booked_minutes"] for t in trend]),
                    ("attended minutes", [t["attended_minutes"] for t in trend]),
                ],
                title=f"Capacity, {pcn}",
            ),
            "dna": charts.line_chart(
                view["months"],
                [("DNA rate", [t["dna_rate"] for t in trend])],
                title=f"DNA rate, {pcn}",
                fmt=charts.percent,
            ),
            "codes": charts.bar_chart(
                _deadline_by_code({pcn: report["pcn_total"]["response_times"]}),
                title="Seen within deadline by triage code",
                fmt=charts.percent,
                maximum=1.0,
            ),
        }
        return TEMPLATES.TemplateResponse(
            request,
            "pcn.html",
            {
                "report": report,
                "svg": {k: Markup(v) for k, v in svg.items()},  # noqa: S704 - built by charts.py, all text escaped
            },
        )

    return router


def _deadline_by_code(response_times: dict[str, dict[str, Any]]) -> list[tuple[str, float | None]]:
    bars: list[tuple[str, float | None]] = []
    for code in domain.APPOINTMENT_CODES:
        within = sum(int(rt[code].get("within_deadline", 0)) for rt in response_times.values())
        breached = sum(int(rt[code].get("breached", 0)) for rt in response_times.values())
        label = f"{code} ({_RESPONSE[code]})"
        bars.append((label, domain._ratio(within, within + breached)))
    return bars


_RESPONSE = {TriageCode.C.value: "24 hours", TriageCode.D.value: "72 hours", TriageCode.E.value: "4 weeks"}
