"""The dashboard: server-rendered pages with inline SVG charts (no JavaScript library, no CDN).

The trust page is the trust manager's; a PCN's page is its PCN manager's too (another PCN answers 404).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from services.metrics.adapters.unit_of_work import SqlMetricsUnitOfWork
from services.metrics.application import queries
from services.metrics.application.access import POLICY, Action
from services.metrics.application.context import MetricsContext
from services.metrics.domain.figures import APPOINTMENT_CODES, ratio
from services.metrics.domain.trust_view import FLAGGED_METRICS
from services.metrics.entrypoints import charts
from services.metrics.entrypoints.params import OptionalMonth, bounded_month
from shared.contracts.codes import TriageCode
from shared.contracts.envelope import PcnCode
from shared.db import Database
from shared.identity import Principal, require_scope

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


def wait_label(minutes: float | None) -> str:
    """An age for a person to read: "3 d 4 h", "5 h 10 min", "12 min"; a dash when nothing waits."""
    if minutes is None:
        return "\u2013"  # an en dash, as the tables show a missing rate
    whole = int(minutes)
    days, rest = divmod(whole, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


TEMPLATES.env.filters["wait"] = wait_label

TrustViewer = Annotated[Principal, Depends(POLICY.requires(Action.VIEW_TRUST_DASHBOARD))]
PcnViewer = Annotated[Principal, Depends(POLICY.requires(Action.VIEW_PCN_DASHBOARD))]

RESPONSE_WINDOW = {TriageCode.C: "24 hours", TriageCode.D: "72 hours", TriageCode.E: "4 weeks"}


def _deadline_by_code(times: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, float | None]]:
    """Seen within deadline per appointment code, summed over the scopes in `times`."""
    bars: list[tuple[str, float | None]] = []
    for code in APPOINTMENT_CODES:
        within = sum(int(rt[code].get("within_deadline", 0)) for rt in times.values())
        breached = sum(int(rt[code].get("breached", 0)) for rt in times.values())
        bars.append((f"{code} ({RESPONSE_WINDOW[code]})", ratio(within, within + breached)))
    return bars


def _markup(svg: Mapping[str, str]) -> dict[str, Markup]:
    return {k: Markup(v) for k, v in svg.items()}  # noqa: S704 - built by charts.py, all text escaped


def trust_charts(view: Mapping[str, Any]) -> dict[str, str]:
    pcns, months, trends = view["pcns"], view["months"], view["trends"]
    flagged = {m: frozenset(p for p, row in pcns.items() if row["flags"][m]) for m in FLAGGED_METRICS}
    return {
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
            months,
            [(p, [t["dna_rate"] for t in ts]) for p, ts in trends.items()],
            title="DNA rate by PCN over six months",
            fmt=charts.percent,
        ),
        "capacity_trend": charts.line_chart(
            months,
            [(p, [t["utilisation"] for t in ts]) for p, ts in trends.items()],
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


def pcn_charts(pcn: str, report: Mapping[str, Any], view: Mapping[str, Any]) -> dict[str, str]:
    months, trend = view["months"], view["trends"].get(pcn, [])
    return {
        "capacity": charts.line_chart(
            months,
            [
                ("bookable minutes", [t["bookable_minutes"] for t in trend]),
                ("booked minutes", [t["booked_minutes"] for t in trend]),
                ("attended minutes", [t["attended_minutes"] for t in trend]),
            ],
            title=f"Capacity, {pcn}",
        ),
        "dna": charts.line_chart(
            months,
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


def build_pages(db: Database, ctx: MetricsContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    async def dashboard(
        request: Request, principal: TrustViewer, month: OptionalMonth = None
    ) -> HTMLResponse:
        month = bounded_month(month, ctx.clock)
        scope = principal.scope_pcns
        async with SqlMetricsUnitOfWork.reading(db) as uow:
            view = await queries.trust_report(uow, month, ctx.clock(), pcns=scope)
            alerts = await queries.recent_alerts(uow, pcns=scope)
        context = {
            "view": view,
            "svg": _markup(trust_charts(view)),
            "alerts": alerts,
            "flag_rules": view["flag_rules"],
            "trust_link": True,
        }
        return TEMPLATES.TemplateResponse(request, "trust.html", context)

    @router.get("/dashboard/pcn/{pcn}", response_class=HTMLResponse)
    async def pcn_page(
        request: Request, principal: PcnViewer, pcn: PcnCode, month: OptionalMonth = None
    ) -> HTMLResponse:
        require_scope(principal, pcn)
        month = bounded_month(month, ctx.clock)
        try:
            async with SqlMetricsUnitOfWork.reading(db) as uow:
                report = await queries.monthly_report(uow, pcn, month, ctx.clock())
                # Only this PCN's trend is drawn: no other PCN's figures are read for the page.
                view = await queries.trust_report(uow, month, ctx.clock(), pcns={pcn})
        except queries.UnknownPcn:
            raise HTTPException(404, detail=f"pcn: no events have been received for PCN {pcn} yet") from None
        context = {
            "report": report,
            # Waiting cases and open escalations as of now, from the same (this PCN only) trust view.
            "now": view["pcns"].get(pcn),
            "as_of": view["as_of"],
            "svg": _markup(pcn_charts(pcn, report, view)),
            # The link to every PCN is shown only to a role that may open the trust page.
            "trust_link": POLICY.allows(principal.role, Action.VIEW_TRUST_DASHBOARD),
        }
        return TEMPLATES.TemplateResponse(request, "pcn.html", context)

    return router
