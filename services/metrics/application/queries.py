"""Read-side queries: the monthly return, the trust view, recent alerts, the archive's size.

`monthly_report` and `trust_report` read the figures kept as events arrive (a few hundred rows whatever
the archive's size); `recomputed_monthly_report` and `recomputed_trust_report` compute the same documents
from every fact, the definitions' reference (the property test and the benchmark's baseline use them).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from services.metrics.application.unit_of_work import MetricsUnitOfWork
from services.metrics.domain import kept_figures as kept
from services.metrics.domain.calendar import check_month, previous_months
from services.metrics.domain.contributions import PCN_SCOPE, DeadlineCase
from services.metrics.domain.escalation_figures import open_escalations
from services.metrics.domain.facts import group_by_pcn
from services.metrics.domain.live_feed import FeedItem, alert_from_escalation
from services.metrics.domain.monthly_return import monthly_return, return_of
from services.metrics.domain.trust_view import HISTORY_MONTHS, side_by_side, trust_view

RECENT_ALERTS = 20


class UnknownPcn(LookupError):
    """No event has been received for this PCN."""


async def monthly_report(uow: MetricsUnitOfWork, pcn: str, month: str, as_of: datetime) -> dict[str, Any]:
    check_month(month, as_of)
    practices = [practice for _, practice in await uow.kept.practices(pcn)]
    if not practices:
        raise UnknownPcn(pcn)
    values = await uow.kept.values([month], pcn=pcn)
    unsettled = await uow.kept.unsettled([month], as_of, pcn=pcn)

    def scope(name: str) -> dict[str, Any]:
        cases = [c for c in unsettled if name == PCN_SCOPE or c.scope == name]
        return kept.scope_figures(values.get((pcn, name, month), {}), cases, as_of)

    return return_of(pcn, month, scope(PCN_SCOPE), {p: scope(p) for p in practices}, as_of)


async def trust_report(
    uow: MetricsUnitOfWork, month: str, as_of: datetime, pcns: Collection[str] | None = None
) -> dict[str, Any]:
    """Every PCN side by side; with `pcns`, only those (the caller's scope: the trust's directory)."""
    check_month(month, as_of)
    one = next(iter(pcns)) if pcns is not None and len(pcns) == 1 else None  # a PCN's page: SQL filters
    known = [p for p in await uow.kept.pcns(one) if pcns is None or p in pcns]
    months = previous_months(month, HISTORY_MONTHS)
    trend_values = await uow.kept.values(months, pcn=one, pcn_totals_only=True, names=kept.TREND_NAMES)
    month_values = await uow.kept.values([month], pcn=one, pcn_totals_only=True, names=kept.RESPONSE_NAMES)
    unsettled: dict[tuple[str, str], list[DeadlineCase]] = {}
    for case in await uow.kept.unsettled(months, as_of, pcn=one):
        unsettled.setdefault((case.pcn_code, case.month), []).append(case)
    waiting: dict[str, list[Any]] = {}
    for entry in await uow.kept.waiting(as_of, pcn=one):
        waiting.setdefault(entry.pcn_code, []).append(entry)
    escalations = await uow.projections.open_escalation_figures(as_of, one)

    trends: dict[str, list[dict[str, Any]]] = {}
    times: dict[str, dict[str, Any]] = {}
    now: dict[str, dict[str, Any]] = {}
    for pcn in known:
        trends[pcn] = [
            kept.trend_point(m, trend_values.get((pcn, PCN_SCOPE, m), {}), unsettled.get((pcn, m), []), as_of)
            for m in months
        ]
        selected = trend_values.get((pcn, PCN_SCOPE, month), {})
        month_times = month_values.get((pcn, PCN_SCOPE, month), {})
        statuses = kept.deadline_statuses(month_times, unsettled.get((pcn, month), []), as_of)
        times[pcn] = kept.response_times(month_times, statuses)
        now[pcn] = {
            "waiting": kept.waiting_figures(waiting.get(pcn, []), as_of),
            "open_escalations": escalations.get(pcn) or open_escalations([], as_of),
            "acknowledgement": kept.acknowledgement(selected),
        }
    return side_by_side(months, trends, times, now, as_of)


async def recomputed_monthly_report(
    uow: MetricsUnitOfWork, pcn: str, month: str, as_of: datetime
) -> dict[str, Any]:
    """`monthly_report` computed from every fact of the PCN."""
    check_month(month, as_of)
    facts = group_by_pcn(await uow.projections.facts(pcn)).get(pcn)
    if facts is None:
        raise UnknownPcn(pcn)
    return monthly_return(pcn, month, facts, as_of)


async def recomputed_trust_report(
    uow: MetricsUnitOfWork, month: str, as_of: datetime, pcns: Collection[str] | None = None
) -> dict[str, Any]:
    """`trust_report` computed from every fact of every PCN."""
    check_month(month, as_of)
    by_pcn = group_by_pcn(await uow.projections.facts())
    if pcns is not None:
        by_pcn = {pcn: facts for pcn, facts in by_pcn.items() if pcn in pcns}
    return trust_view(by_pcn, month, as_of)


async def recent_alerts(
    uow: MetricsUnitOfWork, limit: int = RECENT_ALERTS, pcns: Collection[str] | None = None
) -> list[FeedItem]:
    """The latest escalations from the store, for a freshly opened page (the feed adds new ones)."""
    escalations = await uow.projections.recent_escalations(limit)
    alerts = (alert_from_escalation(f) for f in escalations if pcns is None or f.pcn_code in pcns)
    return [a for a in alerts if a is not None]


async def archive_size(uow: MetricsUnitOfWork) -> int:
    return await uow.archive.count()
