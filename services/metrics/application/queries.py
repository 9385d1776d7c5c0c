"""Read-side queries: the monthly return, the trust view, recent alerts, the archive's size."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from services.metrics.application.unit_of_work import MetricsUnitOfWork
from services.metrics.domain.calendar import check_month
from services.metrics.domain.facts import group_by_pcn
from services.metrics.domain.live_feed import FeedItem, alert_from_escalation
from services.metrics.domain.monthly_return import monthly_return
from services.metrics.domain.trust_view import trust_view

RECENT_ALERTS = 20


class UnknownPcn(LookupError):
    """No event has been received for this PCN."""


async def monthly_report(uow: MetricsUnitOfWork, pcn: str, month: str, as_of: datetime) -> dict[str, Any]:
    check_month(month, as_of)
    facts = group_by_pcn(await uow.projections.facts(pcn)).get(pcn)
    if facts is None:
        raise UnknownPcn(pcn)
    return monthly_return(pcn, month, facts, as_of)


async def trust_report(
    uow: MetricsUnitOfWork, month: str, as_of: datetime, pcns: Collection[str] | None = None
) -> dict[str, Any]:
    """Every PCN side by side; with `pcns`, only those (the caller's scope: the trust's directory)."""
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
