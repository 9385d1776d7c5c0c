"""Europe/London calendar months: the month an instant counts in, a month's bounds, and which months a
report may be asked for."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from shared.errors import RuleViolation
from shared.working_time import LONDON

EARLIEST_MONTH = "2000-01"
"""The contracts refuse instants before 2000 (`shared.contracts.text.EARLIEST_INSTANT`): no earlier month
can hold a fact."""
MONTHS_AHEAD = 24
"""Nor do they accept instants more than two years ahead; a report may look that far, no further."""

_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


class InvalidMonth(RuleViolation):
    """A report month that is not YYYY-MM or lies outside the months any fact can fall in."""


def local_date(instant: datetime) -> date:
    return instant.astimezone(LONDON).date()


def month_of(instant: datetime | None) -> str | None:
    if instant is None:
        return None
    local = instant.astimezone(LONDON)
    return f"{local.year:04d}-{local.month:02d}"


def month_of_day(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _parts(month: str) -> tuple[int, int]:
    match = _MONTH.fullmatch(month)
    if match is None:
        raise InvalidMonth("month: must be YYYY-MM, e.g. 2026-10")
    return int(match[1]), int(match[2])


def add_months(month: str, count: int) -> str:
    """The month `count` months after `month` (before it when negative)."""
    year, mon = _parts(month)
    index = year * 12 + (mon - 1) + count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def latest_month(now: datetime) -> str:
    current = month_of(now)
    assert current is not None
    return add_months(current, MONTHS_AHEAD)


def check_month(month: str, now: datetime) -> str:
    """`month` if a report can be made for it: well formed, from 2000-01 to two years after `now`."""
    _parts(month)
    # Zero-padded YYYY-MM strings order as the months do.
    if not EARLIEST_MONTH <= month <= latest_month(now):
        raise InvalidMonth(f"month: must be between {EARLIEST_MONTH} and {latest_month(now)}")
    return month


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a Europe/London calendar month, as UTC instants (handles the clock changes)."""
    year, mon = _parts(month)
    next_year, next_mon = _parts(add_months(month, 1))
    start = datetime(year, mon, 1, tzinfo=LONDON)
    end = datetime(next_year, next_mon, 1, tzinfo=LONDON)
    return start.astimezone(UTC), end.astimezone(UTC)


def previous_months(month: str, count: int) -> list[str]:
    """`count` months ending with `month`, oldest first."""
    return [add_months(month, -back) for back in range(count - 1, -1, -1)]
