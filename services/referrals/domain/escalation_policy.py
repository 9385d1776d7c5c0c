"""Who an escalation goes to and how long they have: acknowledgement deadlines by target and reason, and
the ladder each first target climbs to the trust's duty manager. Checked at start-up (settings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.contracts.codes import EscalationReason, EscalationTarget
from shared.working_time import WorkingHours

T = EscalationTarget


@dataclass(frozen=True)
class Within:
    """An acknowledgement deadline: wall-clock minutes, or (minutes None) the close of the working day,
    the next working day's when raised out of hours."""

    minutes: int | None = None

    END_OF_WORKING_DAY = "end_of_working_day"

    def due(self, start: datetime, hours: WorkingHours) -> datetime:
        if self.minutes is not None:
            return start + timedelta(minutes=self.minutes)
        opened = hours.clock_in(start)
        close = datetime.combine(opened.date(), hours.closes, tzinfo=hours.timezone)
        return close.astimezone(start.tzinfo)


DEFAULT_ACKNOWLEDGE_WITHIN: Mapping[EscalationTarget, Within] = {
    T.EMERGENCY_SERVICES: Within(15),
    T.CRISIS_TEAM: Within(15),
    T.DUTY_GP: Within(60),
    T.GP: Within(60),
    T.PRACTICE_CLINICAL_LEAD: Within(),  # the close of the same working day
    T.TRUST_DUTY_MANAGER: Within(60),
    T.PLATFORM_OPERATOR: Within(30),
}
DEFAULT_BY_REASON: Mapping[EscalationReason, Within] = {EscalationReason.RED_FLAG_OUT_OF_HOURS: Within(15)}
"""A reason's deadline replaces the target's at every rung (a red flag out of hours cannot wait an hour)."""

DEFAULT_LADDERS: Mapping[EscalationTarget, tuple[EscalationTarget, ...]] = {
    T.PRACTICE_CLINICAL_LEAD: (T.DUTY_GP, T.TRUST_DUTY_MANAGER),
    T.DUTY_GP: (T.PRACTICE_CLINICAL_LEAD, T.TRUST_DUTY_MANAGER),
    T.GP: (T.PRACTICE_CLINICAL_LEAD, T.TRUST_DUTY_MANAGER),
    T.CRISIS_TEAM: (T.TRUST_DUTY_MANAGER,),
    T.EMERGENCY_SERVICES: (T.TRUST_DUTY_MANAGER,),
    T.PLATFORM_OPERATOR: (T.TRUST_DUTY_MANAGER,),
    T.TRUST_DUTY_MANAGER: (),
}
"""By the target an escalation was first raised to: the owners it climbs to, in order."""


@dataclass(frozen=True)
class EscalationPolicy:
    hours: WorkingHours = field(default_factory=WorkingHours)
    acknowledge_within: Mapping[EscalationTarget, Within] = field(
        default_factory=lambda: dict(DEFAULT_ACKNOWLEDGE_WITHIN)
    )
    by_reason: Mapping[EscalationReason, Within] = field(default_factory=lambda: dict(DEFAULT_BY_REASON))
    ladders: Mapping[EscalationTarget, tuple[EscalationTarget, ...]] = field(
        default_factory=lambda: dict(DEFAULT_LADDERS)
    )

    def __post_init__(self) -> None:
        """Refused at start-up: a target with no deadline or ladder, or a ladder not ending at the trust."""
        for target in EscalationTarget:
            if target not in self.acknowledge_within:
                raise ValueError(f"acknowledge_within: no deadline for {target.value}")
            if target not in self.ladders:
                raise ValueError(f"escalation ladder: none for {target.value}")
        for within in (*self.acknowledge_within.values(), *self.by_reason.values()):
            if within.minutes is not None and within.minutes < 1:
                raise ValueError("acknowledgement deadlines are at least 1 minute")
        for start, ladder in self.ladders.items():
            rungs = (start, *ladder)
            if len(set(rungs)) != len(rungs):
                raise ValueError(f"escalation ladder of {start.value}: an owner appears twice")
            if rungs[-1] is not T.TRUST_DUTY_MANAGER:
                raise ValueError(f"escalation ladder of {start.value}: must end at trust_duty_manager")

    def acknowledge_by(self, target: EscalationTarget, reason: EscalationReason, start: datetime) -> datetime:
        within = self.by_reason.get(reason) or self.acknowledge_within[target]
        return within.due(start, self.hours)

    def next_target(self, first: EscalationTarget, current: EscalationTarget) -> EscalationTarget | None:
        """The owner after `current` on the ladder `first` started; None at the last rung."""
        rungs = (first, *self.ladders[first])
        if current not in rungs:  # another service moved it off this ladder: follow the current one's
            rungs = (current, *self.ladders[current])
        position = rungs.index(current)
        return rungs[position + 1] if position + 1 < len(rungs) else None
