"""Value types that bound what an edge accepts: clean free text, identifier-free text, sane instants.

The same types guard AMQP contracts and HTTP request models, so every consumer and every route accepts
or refuses the same value. Error messages name the rule, never the value (they reach dead-letter headers
and HTTP answers).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from nhs_number.validate import is_valid as nhs_number_is_valid
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, StringConstraints

EARLIEST_INSTANT = datetime(2000, 1, 1, tzinfo=UTC)
"""No event of this service can have happened before 2000; older instants are typing errors or attacks."""
LATEST_AHEAD = timedelta(days=2 * 366)
"""The furthest ahead an instant may lie (rotas are published months ahead, never years)."""
MAX_AGE_YEARS = 125

# C0/C1 controls (tab, newline and carriage return allowed in free text), DEL, and the bidirectional
# embedding, override and isolate characters that can make text display differently from what it holds.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Ten digits, optionally grouped 3-3-4 by spaces or hyphens, not inside a longer number.
_NHS_NUMBER_LIKE = re.compile(r"(?<!\d)(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")
# Day, month and year in the common written orders (12/03/1984, 12-03-84, 1984-03-12, 12.03.1984).
_DATE_LIKE = re.compile(
    r"(?<!\d)(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}[/.-]\d{1,2}[/.-]\d{1,2})(?!\d)"
)


def _clean(value: str) -> str:
    if _FORBIDDEN.search(value):
        raise ValueError("must not contain control or bidirectional-override characters")
    if any(unicodedata.category(ch) == "Cs" for ch in value):
        raise ValueError("must not contain unpaired surrogates")
    return value


def contains_nhs_number(value: str) -> bool:
    return any(nhs_number_is_valid("".join(m.groups())) for m in _NHS_NUMBER_LIKE.finditer(value))


def _identifier_free(value: str) -> str:
    if contains_nhs_number(value):
        raise ValueError("must not contain an NHS number")
    if _DATE_LIKE.search(value):
        raise ValueError("must not contain a date (it could be a date of birth)")
    return value


def refuse_numbers(value: Any) -> Any:
    # Pydantic reads a number as Unix time; no producer of ours sends one, so it is a mistake.
    if isinstance(value, bool | int | float):
        raise ValueError("must be an ISO 8601 date-time string, not a number")
    return value


def check_instant(value: datetime, *, now: datetime | None = None) -> datetime:
    """A UTC instant between 2000 and two years from now."""
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC instant: a ValueError, so a 422 not a 500
        raise ValueError("is outside the range of dates") from None
    now = now or datetime.now(UTC)
    if value < EARLIEST_INSTANT:
        raise ValueError("must not be before 2000-01-01")
    if value > now + LATEST_AHEAD:
        raise ValueError("must not be more than two years ahead")
    return value


def age_on(date_of_birth: date, on: date) -> int:
    """Age in whole years on the day `on`."""
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))


def date_of_birth_problem(value: date, on: date) -> str | None:
    """Why a date of birth cannot be right on the day `on` (the call), naming the rule, never the value."""
    if value > on:
        return "data.patient.date_of_birth: is after the date of the call; check the patient's record"
    if age_on(value, on) > MAX_AGE_YEARS:
        return f"data.patient.date_of_birth: gives an age over {MAX_AGE_YEARS}; check the patient's record"
    return None


def _check_instant(value: datetime) -> datetime:
    return check_instant(value)


CleanText = Annotated[str, AfterValidator(_clean)]
"""Free text with no control or bidirectional-override characters (tab and newlines allowed)."""

IdentifierFreeText = Annotated[str, AfterValidator(_clean), AfterValidator(_identifier_free)]
"""Clean free text that must hold no patient identifier: NHS numbers and dates are refused."""

Instant = Annotated[AwareDatetime, BeforeValidator(refuse_numbers), AfterValidator(_check_instant)]
"""A timezone-aware instant in UTC within the sane window (2000 to two years ahead); numbers refused."""

DateOfBirth = Annotated[date, BeforeValidator(refuse_numbers)]
"""A calendar date (numbers refused); `date_of_birth_problem` bounds it against the day of the call."""

ShortText = Annotated[CleanText, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
"""The reason for a call and other short clinical free text: clean, 1 to 2,000 characters."""
