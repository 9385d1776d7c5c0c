"""How soon a missed appointment is followed up, by the case's triage code: risk is kept after triage.

- Same-day codes (C by default, and A/B should such a case ever hold an MHP appointment): due by the close
  of the working day the appointment was missed (or, heard of out of hours, the next working day), but
  never less than a few working hours ahead, so a DNA at 17:45 is due at 09:15 the next working morning
  rather than in 45 minutes nobody could use; the practice's clinical lead is told at the first DNA.
- Next-day codes (D): the same time on the next working day.
- Everything else (E, F, G, and a case whose triage code is unknown here, such as a practice's direct
  booking): the routine period, two working days by default; the GP is told at the second DNA.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shared.contracts.codes import TriageCode
from shared.working_time import WorkingHours


class FollowUpUrgency(StrEnum):
    SAME_DAY = "same_day"
    NEXT_DAY = "next_day"
    ROUTINE = "routine"


@dataclass(frozen=True)
class FollowUpPolicy:
    hours: WorkingHours = field(default_factory=WorkingHours)
    same_day_codes: frozenset[TriageCode] = frozenset({TriageCode.A, TriageCode.B, TriageCode.C})
    same_day_min_working_minutes: int = 120
    next_day_codes: frozenset[TriageCode] = frozenset({TriageCode.D})
    routine_working_days: int = 2

    def __post_init__(self) -> None:
        if self.same_day_codes & self.next_day_codes:
            raise ValueError("a triage code is either same-day or next-day for DNA follow-up, not both")
        if self.same_day_min_working_minutes < 0 or self.routine_working_days < 1:
            raise ValueError("follow-up periods must be positive")

    def urgency(self, code: TriageCode | None) -> FollowUpUrgency:
        if code in self.same_day_codes:
            return FollowUpUrgency.SAME_DAY
        if code in self.next_day_codes:
            return FollowUpUrgency.NEXT_DAY
        return FollowUpUrgency.ROUTINE

    def due(self, code: TriageCode | None, missed_at: datetime) -> datetime:
        """When contact must have been attempted after an appointment missed at `missed_at`."""
        urgency = self.urgency(code)
        calendar = self.hours.calendar
        if urgency is FollowUpUrgency.NEXT_DAY:
            return calendar.add_working_days(missed_at, 1)
        if urgency is FollowUpUrgency.ROUTINE:
            return calendar.add_working_days(missed_at, self.routine_working_days)
        start = self.hours.clock_in(missed_at)
        close = datetime.combine(start.date(), self.hours.closes, tzinfo=self.hours.timezone)
        at_least = self.hours.add(start, minutes=self.same_day_min_working_minutes)
        return max(close, at_least).astimezone(missed_at.tzinfo)

    def tells_clinical_lead_at_first_miss(self, code: TriageCode | None) -> bool:
        """A high-risk patient who did not attend (or cancelled): the clinical lead knows at once."""
        return self.urgency(code) is FollowUpUrgency.SAME_DAY
