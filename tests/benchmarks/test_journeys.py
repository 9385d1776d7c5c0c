"""The whole-journey benchmark run tiny on the test broker: every figure is reported and every journey
reaches the metrics archive (figures are not asserted: the machine is shared)."""

from __future__ import annotations

import math

import pytest

from benchmarks.journeys import STAGES, run
from mhp.broker import VhostAdmin
from mhp.platform import SERVICES

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_a_few_journeys_report_every_figure_and_all_reach_metrics(
    broker: tuple[str, VhostAdmin | None],
) -> None:
    url, node = broker
    report = run(url, node, journeys=4, concurrency=2, raw_messages=200, timeout=90)

    assert report.failure is None
    assert report.archived == report.journeys == 4
    # The journeys are decided B, E, E, A: two escalated, two booked, none waitlisted.
    assert (report.escalated, report.booked, report.waitlisted_codes) == (2, 2, "")
    assert report.journeys_per_second > 0
    assert report.raw_hops_per_second > 0
    for p50, p99 in [report.raw_hop, *(report.stages[name] for name in STAGES)]:
        assert math.isfinite(p50)
        assert p99 >= p50 > 0
    assert sorted(report.rss_mb) == sorted(s.name for s in SERVICES)
    assert all(mb > 0 for mb in report.rss_mb.values())
    printed = "\n".join(report.lines(2, "SQLite"))
    assert all(name in printed for name in [*STAGES, *report.rss_mb, "raw aio-pika hop", "journeys/s"])
