"""Query parameters shared by the API, the pages and the CLI: bounded, so a hostile value is a 422."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query
from fastapi.exceptions import RequestValidationError

from services.metrics.domain.calendar import InvalidMonth, check_month, month_of
from services.metrics.domain.monthly_return import flatten

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
MONTH_HELP = "YYYY-MM (Europe/London month), from 2000-01 to two years ahead"


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


Month = Annotated[str, Query(pattern=MONTH_PATTERN, max_length=7, description=MONTH_HELP)]
OptionalMonth = Annotated[
    str | None, Query(pattern=MONTH_PATTERN, max_length=7, description=f"{MONTH_HELP}; default this month")
]


def bounded_month(month: str | None, clock: Callable[[], datetime]) -> str:
    """The month asked for (this month if none), refused as the query's month if out of range."""
    now = clock()
    if month is None:
        current = month_of(now)
        assert current is not None
        return current
    try:
        return check_month(month, now)
    except InvalidMonth as exc:
        # The same 422 shape as a malformed month, naming the parameter but not echoing its value.
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "month"), "msg": exc.reason}]
        ) from None


def report_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["pcn", "month", "scope", "section", "item", "value"])
    for scope, section, item, value in flatten(report):
        writer.writerow(
            [report["pcn"], report["month"], scope, section, item, "" if value is None else value]
        )
    return out.getvalue()
