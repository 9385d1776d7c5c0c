"""The one working-time calendar (shared/working_time.py): shipped bank holidays, working days and hours."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from shared.working_time import LONDON, WorkingCalendar, WorkingHours, load_bank_holidays

ENGLAND_AND_WALES = load_bank_holidays()


def test_the_shipped_bank_holidays_are_weekdays_covering_2024_to_2028_with_substitutes() -> None:
    assert {d.year for d in ENGLAND_AND_WALES} == {2024, 2025, 2026, 2027, 2028}
    assert all(d.weekday() < 5 for d in ENGLAND_AND_WALES)
    assert date(2026, 4, 3) in ENGLAND_AND_WALES  # Good Friday 2026
    assert date(2027, 12, 28) in ENGLAND_AND_WALES  # Boxing Day 2027 falls on a Sunday: substitute Tuesday


def test_an_operator_can_supply_their_own_file_in_gov_uk_shape(tmp_path: Path) -> None:
    extra = tmp_path / "holidays.json"
    extra.write_text(json.dumps({"events": [{"title": "Local closure", "date": "2029-01-02"}]}))
    assert load_bank_holidays(extra) == frozenset({date(2029, 1, 2)})


def test_working_days_skip_weekends_and_bank_holidays() -> None:
    calendar = WorkingCalendar(closed_days=ENGLAND_AND_WALES)
    # Thursday 2 April 2026 + 1 working day: Good Friday and Easter Monday are closed → Tuesday 7 April.
    assert calendar.next_working_day(date(2026, 4, 2)) == date(2026, 4, 7)
    start = datetime(2026, 4, 2, 15, 0, tzinfo=UTC)  # 16:00 in London (BST)
    assert calendar.add_working_days(start, 2) == datetime(2026, 4, 8, 15, 0, tzinfo=UTC)


def test_a_local_closure_adds_to_the_bank_holidays() -> None:
    calendar = WorkingCalendar(closed_days=ENGLAND_AND_WALES).closing(date(2026, 4, 7))
    assert calendar.next_working_day(date(2026, 4, 2)) == date(2026, 4, 8)


def test_working_hours_carry_minutes_over_the_night_and_the_bank_holiday() -> None:
    hours = WorkingHours(time(8, 0), time(18, 30), WorkingCalendar(closed_days=ENGLAND_AND_WALES))
    thursday_evening = datetime(2026, 4, 2, 18, 0, tzinfo=LONDON)
    # 30 minutes left on Thursday; the other 30 from Tuesday's opening (Friday and Monday are closed).
    assert hours.add(thursday_evening, minutes=60) == datetime(2026, 4, 7, 8, 30, tzinfo=LONDON)
    assert not hours.is_open(datetime(2026, 4, 3, 10, 0, tzinfo=LONDON))
    assert hours.clock_in(datetime(2026, 4, 6, 12, 0, tzinfo=LONDON)) == datetime(
        2026, 4, 7, 8, 0, tzinfo=LONDON
    )


@pytest.mark.parametrize("weekdays", [frozenset(), frozenset({7})])
def test_a_calendar_needs_real_working_weekdays(weekdays: frozenset[int]) -> None:
    with pytest.raises(ValueError, match="weekday"):
        WorkingCalendar(weekdays=weekdays)
