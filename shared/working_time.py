"""Working days and working hours in the trust's time zone, with England and Wales bank holidays.

One place for the arithmetic every service needs: triage's callback deadlines (working hours), referrals'
chase and DNA follow-up dates (working days), booking's rota (London time). No I/O beyond reading the
bank-holiday data file the project ships (`shared/data/`), which an operator can extend.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
"""The time zone of every NHS England rota and deadline."""

BANK_HOLIDAYS_FILE = Path(__file__).with_name("data") / "bank-holidays-england-and-wales.json"


def load_bank_holidays(path: Path = BANK_HOLIDAYS_FILE) -> frozenset[date]:
    """Dates from a file in GOV.UK's bank-holidays.json shape (`{"events": [{"date": "YYYY-MM-DD"}]}`)."""
    return _load(path.resolve())


@cache
def _load(path: Path) -> frozenset[date]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    events = raw.get("events", []) if isinstance(raw, dict) else raw
    return frozenset(date.fromisoformat(item["date"] if isinstance(item, dict) else item) for item in events)


def bank_holidays_england_and_wales() -> frozenset[date]:
    return load_bank_holidays()


@dataclass(frozen=True)
class WorkingCalendar:
    """Working weekdays (Monday = 0) and closed days (bank holidays) in one time zone."""

    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    closed_days: frozenset[date] = frozenset()
    timezone: ZoneInfo = LONDON

    def __post_init__(self) -> None:
        if not self.weekdays:
            raise ValueError("at least one working weekday is needed")
        if not self.weekdays <= set(range(7)):
            raise ValueError("working weekdays are 0 (Monday) to 6 (Sunday)")

    def closing(self, *days: date) -> WorkingCalendar:
        """The same calendar with more closed days."""
        return replace(self, closed_days=self.closed_days | frozenset(days))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.closed_days

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """`start` plus whole working days: the same local time on the `days`-th working day after it."""
        local = start.astimezone(self.timezone)
        day = local.date()
        for _ in range(days):
            day = self.next_working_day(day)
        return datetime.combine(day, local.time(), tzinfo=self.timezone).astimezone(start.tzinfo)


@dataclass(frozen=True)
class WorkingHours:
    """When a service answers (e.g. 08:00-18:30 on working days); deadlines only run inside these hours."""

    opens: time = time(8, 0)
    closes: time = time(18, 30)
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError("working hours must open before they close")

    @property
    def timezone(self) -> ZoneInfo:
        return self.calendar.timezone

    def is_working_day(self, day: date) -> bool:
        return self.calendar.is_working_day(day)

    def next_working_day(self, day: date) -> date:
        return self.calendar.next_working_day(day)

    def _open_at(self, day: date) -> datetime:
        return datetime.combine(day, self.opens, tzinfo=self.timezone)

    def _close_at(self, day: date) -> datetime:
        return datetime.combine(day, self.closes, tzinfo=self.timezone)

    def is_open(self, instant: datetime) -> bool:
        local = instant.astimezone(self.timezone)
        day = local.date()
        return self.is_working_day(day) and self._open_at(day) <= local <= self._close_at(day)

    def clock_in(self, instant: datetime) -> datetime:
        """The instant itself if inside working hours, else the next opening (local time)."""
        local = instant.astimezone(self.timezone)
        day = local.date()
        if self.is_working_day(day):
            if local < self._open_at(day):
                return self._open_at(day)
            if local <= self._close_at(day):
                return local
        return self._open_at(self.next_working_day(day))

    def add(self, start: datetime, *, days: int = 0, minutes: int = 0) -> datetime:
        """`start` plus whole working days (same local time on a later working day), then working minutes."""
        current = self.clock_in(start)
        for _ in range(days):
            next_day = self.next_working_day(current.date())
            current = datetime.combine(next_day, current.timetz().replace(tzinfo=None), tzinfo=self.timezone)
        remaining = timedelta(minutes=minutes)
        while True:
            close = self._close_at(current.date())
            # Wall-clock differences: an opening day never spans a DST change at 08:00-18:30.
            left_today = close.replace(tzinfo=None) - current.replace(tzinfo=None)
            if remaining <= left_today:
                return (current.replace(tzinfo=None) + remaining).replace(tzinfo=self.timezone)
            remaining -= left_today
            current = self._open_at(self.next_working_day(current.date()))
