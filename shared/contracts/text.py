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

# C0/C1 controls (tab, newline and carriage return allowed in free text), DEL, the bidirectional marks,
# embeddings, overrides and isolates that make text display differently from what it holds, and the
# invisible characters that can hide inside a word or number: word joiner and invisible operators, the
# byte-order mark, interlinear annotation and tag characters. (Zero-width joiners stay: scripts and
# emoji need them; identifier detection looks through them instead.)
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u2069\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)
NHS_NUMBER_CANDIDATE = re.compile(r"(?<!\d)\d(?:[^\dA-Za-z]{0,3}\d){9}(?!\d)")
"""Ten digits (any script), with up to three separators of any kind between them, not inside a longer
number: what could be an NHS number. `is_nhs_number` decides. Logging redacts with the same pair."""
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
# Dates in the orders people write them: 12/03/1984, 12-3-84, 1984-03-12, 12.03.1984, 12 03 1984,
# 12031984, 12 March 1984, March 12 1984. Candidates are checked as real dates before refusing.
_NUMERIC_DATE = re.compile(
    r"(?<![0-9])(?:(?P<d>[0-9]{1,2})[/. -](?P<m>[0-9]{1,2})[/. -](?P<y>[0-9]{4}|[0-9]{2})"
    r"|(?P<y2>[0-9]{4})[/.-](?P<m2>[0-9]{1,2})[/.-](?P<d2>[0-9]{1,2})"
    r"|(?P<d3>[0-9]{2})(?P<m3>[0-9]{2})(?P<y3>(?:19|20)[0-9]{2}))(?![0-9])"
)
_WORDED_DATE = re.compile(
    rf"\b(?:[0-9]{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})[a-z]*\.?,?\s+[0-9]{{2,4}}"
    rf"|(?:{_MONTHS})[a-z]*\.?\s+[0-9]{{1,2}}(?:st|nd|rd|th)?,?\s+[0-9]{{2,4}})\b",
    re.IGNORECASE,
)


def _clean(value: str) -> str:
    if _FORBIDDEN.search(value):
        raise ValueError("must not contain control, invisible or bidirectional-override characters")
    if any(unicodedata.category(ch) == "Cs" for ch in value):
        raise ValueError("must not contain unpaired surrogates")
    return value


def _visible(value: str) -> str:
    """What a reader sees: compatibility forms folded (full-width digits), format characters removed."""
    folded = unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


def is_nhs_number(candidate: str) -> bool:
    """A candidate's digits (full-width ones folded) pass the Modulus 11 check."""
    digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", candidate))
    return len(digits) == 10 and nhs_number_is_valid(digits)


def contains_nhs_number(value: str) -> bool:
    return any(is_nhs_number(m.group()) for m in NHS_NUMBER_CANDIDATE.finditer(_visible(value)))


def _is_real_date(day: str, month: str, year: str) -> bool:
    return 1 <= int(day) <= 31 and 1 <= int(month) <= 12 and (len(year) == 2 or 1900 <= int(year) <= 2100)


def contains_date(value: str) -> bool:
    text = _visible(value)
    if _WORDED_DATE.search(text):
        return True
    for m in _NUMERIC_DATE.finditer(text):
        for d, mo, y in (("d", "m", "y"), ("d2", "m2", "y2"), ("d3", "m3", "y3")):
            if m.group(d) is not None and _is_real_date(m.group(d), m.group(mo), m.group(y)):
                return True
    return False


def _identifier_free(value: str) -> str:
    if contains_nhs_number(value):
        raise ValueError("must not contain an NHS number")
    if contains_date(value):
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

IdentifierFreeText = Annotated[
    str, StringConstraints(strip_whitespace=True), AfterValidator(_clean), AfterValidator(_identifier_free)
]
"""Clean free text that must hold no patient identifier: NHS numbers and dates are refused."""

Instant = Annotated[AwareDatetime, BeforeValidator(refuse_numbers), AfterValidator(_check_instant)]
"""A timezone-aware instant in UTC within the sane window (2000 to two years ahead); numbers refused."""

DateOfBirth = Annotated[date, BeforeValidator(refuse_numbers)]
"""A calendar date (numbers refused); `date_of_birth_problem` bounds it against the day of the call."""

# Constraints on `str` itself, so the length is checked after stripping ("   " is refused, not kept as "").
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), AfterValidator(_clean)
]
"""The reason for a call and other short clinical free text: clean, 1 to 2,000 characters."""
