"""When a referral is chased and a DNA follow-up is due: whole working days of the trust's calendar."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.working_time import WorkingCalendar


@dataclass(frozen=True)
class Deadlines:
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    chase_after_working_days: int = 5
    dna_follow_up_working_days: int = 2

    def response_due(self, made_at: datetime) -> datetime:
        """A receiving service that has not answered by then is chased through the clinical lead."""
        return self.calendar.add_working_days(made_at, self.chase_after_working_days)

    def follow_up_due(self, missed_at: datetime) -> datetime:
        """Contact must be attempted by then after a DNA, or the follow-up is escalated."""
        return self.calendar.add_working_days(missed_at, self.dna_follow_up_working_days)


def overdue(due_at: datetime, now: datetime) -> bool:
    """Due up to and including its instant; only later is overdue."""
    return now > due_at
