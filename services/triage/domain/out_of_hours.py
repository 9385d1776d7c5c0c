"""Red flags out of working hours: who is told at once when nobody is working the triage list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.contracts.codes import EscalationTarget
from shared.working_time import WorkingHours

OUT_OF_HOURS_ROUTES = (EscalationTarget.CRISIS_TEAM, EscalationTarget.DUTY_GP)
"""Who can act on a red-flag call tonight: the crisis line or the out-of-hours duty GP."""


@dataclass(frozen=True)
class OutOfHoursPolicy:
    """The triage list's working hours (bank holidays closed) and where a red-flag call goes outside them."""

    hours: WorkingHours = field(default_factory=WorkingHours)
    route: EscalationTarget = EscalationTarget.CRISIS_TEAM

    def __post_init__(self) -> None:
        if self.route not in OUT_OF_HOURS_ROUTES:
            raise ValueError(f"the out-of-hours route is one of {', '.join(OUT_OF_HOURS_ROUTES)}")

    def out_of_hours(self, received_at: datetime, now: datetime) -> bool:
        # Either instant counts: a call sent at 18:25 that reaches triage at 18:40 (a backlog, an outage)
        # is as unseen until the morning as one sent at 18:40.
        return not (self.hours.is_open(received_at) and self.hours.is_open(now))
