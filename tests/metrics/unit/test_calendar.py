"""London months: bucketing, bounds across the clock changes and the year end, and which months exist."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.metrics.domain.calendar import (
    EARLIEST_MONTH,
    InvalidMonth,
    add_months,
    check_month,
    latest_month,
    month_bounds,
    month_of,
    previous_months,
)
from shared.contracts.text import EARLIEST_INSTANT, LATEST_AHEAD
from shared.errors import RuleViolation

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)


def test_months_match_the_contracts_window() -> None:
    assert month_of(EARLIEST_INSTANT) == EARLIEST_MONTH
    furthest = month_of(NOW + LATEST_AHEAD)
    assert furthest is not None
    assert furthest <= latest_month(NOW)


def test_month_bounds_across_the_year_end_and_bst() -> None:
    assert month_bounds("2026-12") == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert month_bounds("2027-04") == (
        datetime(2027, 3, 31, 23, tzinfo=UTC),
        datetime(2027, 4, 30, 23, tzinfo=UTC),
    )


def test_months_are_counted_across_years() -> None:
    assert add_months("2026-12", 1) == "2027-01"
    assert add_months("2026-01", -1) == "2025-12"
    assert add_months("2026-10", -22) == "2024-12"
    assert previous_months("2027-02", 4) == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert previous_months("2000-01", 2) == ["1999-12", "2000-01"]


@pytest.mark.parametrize("month", ["2000-01", "2026-12", "2028-12"])
def test_a_month_inside_the_window_is_accepted(month: str) -> None:
    assert check_month(month, NOW) == month


@pytest.mark.parametrize(
    "month",
    [
        "9999-12",
        "9999-13",
        "0001-01",
        "1999-12",
        "2029-01",
        "2026-00",
        "2026-1",
        "26-10",
        "\uff12\uff10\uff12\uff16-10",
        "",
    ],
)
def test_a_month_outside_the_window_or_malformed_is_refused(month: str) -> None:
    with pytest.raises(InvalidMonth) as refused:
        check_month(month, NOW)
    assert isinstance(refused.value, RuleViolation)
    assert refused.value.reason.startswith("month: ")
