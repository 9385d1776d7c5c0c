"""The trust view: every PCN side by side for a month, with its trend and the outlier flags."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from services.metrics.domain.calendar import previous_months
from services.metrics.domain.deadlines import waiting_figures
from services.metrics.domain.escalation_figures import acknowledgement, open_escalations
from services.metrics.domain.facts import Facts
from services.metrics.domain.figures import deadline_totals, figures, ratio
from services.metrics.domain.monthly_return import TIMEZONE
from services.metrics.domain.outliers import FLAG_RULES, outliers

HISTORY_MONTHS = 6
FLAGGED_METRICS = ("dna_rate", "deadline_met_rate")


def trend_point(facts: Facts, month: str, as_of: datetime) -> dict[str, Any]:
    """One PCN's headline figures for one month."""
    figs = figures(facts, month, as_of)
    within, breached = deadline_totals(figs["response_times"])
    return {
        "month": month,
        "dna_rate": figs["attendance"]["dna_rate"],
        "deadline_met_rate": ratio(within, within + breached),
        "deadlines_met": within,
        "deadlines_breached": breached,
        "bookable_minutes": figs["capacity"]["bookable_minutes"],
        "booked_minutes": figs["capacity"]["booked_minutes"],
        "attended_minutes": figs["capacity"]["attended_minutes"],
        "utilisation": figs["capacity"]["utilisation"],
        "initial_assessments": figs["initial_assessments"]["total"],
        "escalations": sum(figs["escalations"].values()),
        "median_minutes_to_acknowledge": acknowledgement(facts.escalations, month)[
            "median_minutes_to_acknowledge"
        ],
        "response_times": figs["response_times"],
    }


def now_figures(facts: Facts, month: str, as_of: datetime) -> dict[str, Any]:
    """What stands as of `as_of`, whatever the month: cases waiting to be seen and escalations still open;
    with the month's acknowledgements."""
    return {
        "waiting": waiting_figures(facts.calls, facts.appointments, as_of),
        "open_escalations": open_escalations(facts.escalations, as_of),
        "acknowledgement": acknowledgement(facts.escalations, month),
    }


def _without_response_times(point: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in point.items() if k != "response_times"}


def trust_view(
    by_pcn: Mapping[str, Facts], month: str, as_of: datetime, history: int = HISTORY_MONTHS
) -> dict[str, Any]:
    """Every PCN side by side for `month`, outliers flagged, with `history` months of trend per PCN, and
    each PCN's waiting cases and open escalations as of `as_of`, computed from the facts."""
    months = previous_months(month, history)
    points = {pcn: [trend_point(facts, m, as_of) for m in months] for pcn, facts in by_pcn.items()}
    trends = {pcn: [_without_response_times(p) for p in ps] for pcn, ps in points.items()}
    times = {pcn: ps[-1]["response_times"] for pcn, ps in points.items()}
    now = {pcn: now_figures(facts, month, as_of) for pcn, facts in by_pcn.items()}
    return side_by_side(months, trends, times, now, as_of)


def side_by_side(
    months: list[str],
    trends: Mapping[str, list[dict[str, Any]]],
    response_times: Mapping[str, Any],
    now: Mapping[str, Mapping[str, Any]],
    as_of: datetime,
) -> dict[str, Any]:
    """The trust view from each PCN's trend (oldest first, without response times), the response times of
    its last month and its figures as of now."""
    rows = {pcn: trend[-1] for pcn, trend in trends.items()}
    flags = {metric: outliers({p: r[metric] for p, r in rows.items()}) for metric in FLAGGED_METRICS}
    return {
        "month": months[-1],
        "timezone": TIMEZONE,
        "as_of": as_of.astimezone(UTC).isoformat(),
        "months": months,
        "pcns": {
            pcn: {**row, **now[pcn], "flags": {metric: flags[metric][pcn] for metric in flags}}
            for pcn, row in rows.items()
        },
        "response_times": dict(response_times),
        "trends": dict(trends),
        "flag_rules": FLAG_RULES,
    }
