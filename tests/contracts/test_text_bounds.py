"""The bounds every edge shares (`shared/contracts/text.py`): what they accept, what they refuse, and that
a refusal never repeats the value."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.contracts.envelope import NhsNumber, PcnCode
from shared.contracts.text import (
    CleanText,
    IdentifierFreeText,
    Instant,
    ShortText,
    age_on,
    contains_nhs_number,
    date_of_birth_problem,
)

NHS_NUMBER = "4474340116"  # valid Modulus 11, synthetic


def _refusal(kind: Any, value: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        TypeAdapter(kind).validate_python(value)
    return str(refused.value.errors(include_input=False)[0]["msg"])


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\u202e", "\u2066", "\u200f"])
def test_clean_text_refuses_control_and_bidi_characters(char: str) -> None:
    assert "bidirectional-override characters" in _refusal(CleanText, f"low{char}mood")


def test_clean_text_keeps_tabs_newlines_and_any_script() -> None:
    text = "Ffôn: low mood\n\tworse at night — 睡眠不足"
    assert TypeAdapter(CleanText).validate_python(text) == text


@pytest.mark.parametrize(
    "value",
    [
        NHS_NUMBER,
        "447 434 0116",
        "447-434-0116",
        f"see {NHS_NUMBER}.",
        "447.434.0116",
        "447/434/0116",
        "4474 340 116",
        "447\u00a0434\u00a00116",  # no-break spaces
        "447\u200b4340116",  # a zero-width space hidden inside
    ],
)
def test_identifier_free_text_refuses_nhs_numbers_however_written(value: str) -> None:
    message = _refusal(IdentifierFreeText, value)
    assert "NHS number" in message
    assert NHS_NUMBER not in message


@pytest.mark.parametrize(
    "value",
    [
        "born 14/03/1990",
        "dob 1990-03-14",
        "14.3.90",
        "12 03 1984",
        "12031984",
        "12 March 1984",
        "March 12th, 1984",
    ],
)
def test_identifier_free_text_refuses_dates(value: str) -> None:
    assert "date" in _refusal(IdentifierFreeText, value)


def test_identifier_free_text_keeps_times_and_numbers_that_are_not_dates() -> None:
    for text in ("clinic runs 9.00-12.00", "seen 3 times in 12 months", "waiting list 40-60 weeks"):
        assert TypeAdapter(IdentifierFreeText).validate_python(text) == text


@pytest.mark.parametrize("kind", [CleanText, IdentifierFreeText])
@pytest.mark.parametrize("char", ["\u2060", "\ufeff", "\U000e0041", "\u061c", "\ufff9"])
def test_invisible_characters_are_refused(kind: Any, char: str) -> None:
    assert "invisible" in _refusal(kind, f"low{char}mood")


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_a_blank_reason_is_refused_not_kept_empty(blank: str) -> None:
    _refusal(ShortText, blank)


def test_identifier_free_text_keeps_ten_digits_that_are_not_an_nhs_number() -> None:
    assert not contains_nhs_number("call 0123456789 ext")  # fails Modulus 11
    assert (
        TypeAdapter(IdentifierFreeText).validate_python("service full for 6 weeks")
        == "service full for 6 weeks"
    )


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1999-12-31T23:59:59Z", "0001-01-01T00:00:00+01:00"],
)
def test_instants_outside_the_window_are_refused(value: str) -> None:
    _refusal(Instant, value)


@pytest.mark.parametrize("value", [0, 1_700_000_000, 1.7e9, True])
def test_an_instant_sent_as_a_number_is_refused(value: Any) -> None:
    assert "not a number" in _refusal(Instant, value)


def test_instants_inside_the_window_are_normalised_to_utc() -> None:
    adapter = TypeAdapter(Instant)
    assert adapter.validate_python("2000-01-01T01:00:00+01:00") == datetime(2000, 1, 1, tzinfo=UTC)
    soon = datetime.now(UTC) + timedelta(days=700)
    assert adapter.validate_python(soon.isoformat()) == soon
    _refusal(Instant, "2026-01-01T10:00:00")  # naive: refused


def test_a_date_of_birth_after_the_call_or_over_125_years_is_a_problem_that_names_no_value() -> None:
    call_day = date(2026, 11, 16)
    after = date_of_birth_problem(date(2026, 11, 17), call_day)
    assert after is not None
    assert after.startswith("data.patient.date_of_birth:")
    assert "2026" not in after
    too_old = date_of_birth_problem(date(1890, 1, 1), call_day)
    assert too_old is not None
    assert "over 125" in too_old
    assert date_of_birth_problem(call_day, call_day) is None


def test_age_counts_whole_years_to_the_birthday() -> None:
    assert age_on(date(2008, 11, 17), date(2026, 11, 16)) == 17
    assert age_on(date(2008, 11, 16), date(2026, 11, 16)) == 18


FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))


@pytest.mark.parametrize(("kind", "value"), [(PcnCode, "U12345"), (NhsNumber, NHS_NUMBER)])
def test_codes_written_in_other_scripts_digits_are_refused(kind: Any, value: str) -> None:
    assert TypeAdapter(kind).validate_python(value) == value
    _refusal(kind, value.translate(FULL_WIDTH))  # the same code in full-width digits
