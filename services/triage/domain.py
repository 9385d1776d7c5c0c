"""Triage rules, free of I/O: UK MHTS deadlines, scope rules, worklist priority and callback targets.

The triage code is the MHP's clinical decision; these rules only derive what follows from it and
enforce the service's scope. No risk score is computed (NICE NG225): red flags only order the worklist.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from shared.contracts.codes import (
    DEFAULT_DISPOSITION,
    RESPONSE_WINDOW,
    CallerUrgency,
    Channel,
    Destination,
    Disposition,
    EscalationTarget,
    Modality,
    OutOfScopeReason,
    TriageCode,
)

LONDON = ZoneInfo("Europe/London")
MIN_AGE = 18
MAX_AGE = 65
OLDEST_PLAUSIBLE_AGE = 125
STANDARD_MINUTES = 30
COMPLEX_MINUTES = 60

RED_FLAG_PATTERN = re.compile(
    r"\b(suicid\w*|kill (myself|himself|herself|themselves)|end (my|his|her|their) life|overdos\w*"
    r"|self[- ]?harm\w*|cutting|hurt (someone|others|people)|harm (to )?others|voices|hallucinat\w*"
    r"|psychos\w*|psychotic|paranoi\w*)\b",
    re.IGNORECASE,
)

# Worklist priority: lower comes first.
PRIORITY_RED_FLAGS = 0
PRIORITY_CALLER_URGENT = 1
PRIORITY_ROUTINE = 2


def has_red_flags(reason: str) -> bool:
    """Words in the call's reason that should bring it to the top of the worklist."""
    return RED_FLAG_PATTERN.search(reason) is not None


def worklist_priority(reason: str, caller_urgency: CallerUrgency) -> int:
    if has_red_flags(reason):
        return PRIORITY_RED_FLAGS
    return PRIORITY_CALLER_URGENT if caller_urgency is CallerUrgency.URGENT else PRIORITY_ROUTINE


def age_on(date_of_birth: date, on: date) -> int:
    years = on.year - date_of_birth.year
    if (on.month, on.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def identity_problem(date_of_birth: date, called_at: datetime) -> str | None:
    """Why a caller's date of birth cannot be right, naming the field but never its value."""
    call_day = called_at.astimezone(LONDON).date()
    if date_of_birth > call_day:
        return "data.patient.date_of_birth: is after the date of the call; check the patient's record"
    if age_on(date_of_birth, call_day) > OLDEST_PLAUSIBLE_AGE:
        return (
            f"data.patient.date_of_birth: gives an age over {OLDEST_PLAUSIBLE_AGE}; "
            "check the patient's record"
        )
    return None


# --- callback deadlines in working time -----------------------------------------------------------


@dataclass(frozen=True)
class WorkingHours:
    """When the practice's MHP service answers calls back; deadlines only run inside these hours."""

    opens: time = time(8, 0)
    closes: time = time(18, 30)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    timezone: ZoneInfo = LONDON
    closed_days: frozenset[date] = frozenset()  # bank holidays

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError("working hours must open before they close")
        if not self.weekdays:
            raise ValueError("working hours need at least one working weekday")

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.closed_days

    def _open_at(self, day: date) -> datetime:
        return datetime.combine(day, self.opens, tzinfo=self.timezone)

    def _close_at(self, day: date) -> datetime:
        return datetime.combine(day, self.closes, tzinfo=self.timezone)

    def next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

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


@dataclass(frozen=True)
class CallbackTarget:
    """How long the MHP has to call back, in working time: whole working days, then working minutes."""

    days: int = 0
    minutes: int = 0

    @classmethod
    def parse(cls, text: str) -> CallbackTarget:
        """`2h`, `90m`, `1d` or a sum such as `1d2h`."""
        match = re.fullmatch(r"\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*", text)
        if match is None or not any(match.groups()):
            raise ValueError(f"callback target {text!r} is not like 2h, 90m, 1d or 1d2h")
        days, hours, minutes = (int(g) if g else 0 for g in match.groups())
        if days == hours == minutes == 0:
            raise ValueError("a callback target must be longer than zero")
        return cls(days=days, minutes=hours * 60 + minutes)


DEFAULT_CALLBACK_TARGETS: Mapping[Channel, CallbackTarget] = {
    Channel.TELEPHONE: CallbackTarget(minutes=120),
    Channel.WALK_IN: CallbackTarget(minutes=120),
    Channel.E_CONSULTATION: CallbackTarget(days=1),
    Channel.GP_TASK: CallbackTarget(days=1),
    Channel.DIRECT_BOOKING: CallbackTarget(days=1),
}


@dataclass(frozen=True)
class CallbackPolicy:
    """Callback targets per channel, with per-PCN overrides, measured in the given working hours."""

    hours: WorkingHours = field(default_factory=WorkingHours)
    targets: Mapping[Channel, CallbackTarget] = field(default_factory=lambda: dict(DEFAULT_CALLBACK_TARGETS))
    pcn_targets: Mapping[str, Mapping[Channel, CallbackTarget]] = field(default_factory=dict)

    def target(self, pcn_code: str, channel: Channel) -> CallbackTarget:
        override = self.pcn_targets.get(pcn_code, {})
        return override.get(channel) or self.targets.get(channel) or DEFAULT_CALLBACK_TARGETS[channel]

    def callback_due(self, pcn_code: str, channel: Channel, received_at: datetime) -> datetime:
        target = self.target(pcn_code, channel)
        return self.hours.add(received_at, days=target.days, minutes=target.minutes)


def deadline_breached(callback_due_at: datetime, now: datetime) -> bool:
    """The callback target is met up to and including its due instant; only later is a breach."""
    return now > callback_due_at


# --- decisions -----------------------------------------------------------------------------------


class ContactOutcome(StrEnum):
    """NHS Data Dictionary MENTAL HEALTH DROP IN CONTACT OUTCOME national codes."""

    CALLER_DISCONNECTED = "01"
    ADVICE_ON_CALL_ONLY = "02"
    SIGNPOSTED_NON_NHS = "03"
    NON_URGENT_REFERRAL_NHS = "04"
    URGENT_REFERRAL_FACE_TO_FACE = "05"
    EMERGENCY_SERVICES_NOTIFIED = "06"
    OTHER = "98"


@dataclass(frozen=True)
class RiskFormulation:
    """The MHP's risk formulation: free text plus structured flags. Kept in triage only, never published."""

    summary: str
    thoughts: bool = False
    plan: bool = False
    means: bool = False
    intent: bool = False
    history: bool = False
    protective_factors: bool = False
    safeguarding_concerns: bool = False


@dataclass(frozen=True)
class DecisionInput:
    triage_code: TriageCode
    clinician: str
    modality: Modality | None = None
    complex_needs: bool = False
    low_level_need: bool = False
    disposition: Disposition | None = None
    risk: RiskFormulation | None = None


class InvalidDecision(ValueError):
    """The decision contradicts itself; `field` names the request field to correct."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


# What an MHP may choose for each code; A and B are handled apart (always escalated).
ALLOWED_DISPOSITIONS: Mapping[TriageCode, frozenset[Disposition]] = {
    TriageCode.C: frozenset({Disposition.URGENT_APPOINTMENT}),
    TriageCode.D: frozenset({Disposition.APPOINTMENT, Disposition.URGENT_APPOINTMENT}),
    TriageCode.E: frozenset({Disposition.APPOINTMENT, Disposition.URGENT_APPOINTMENT}),
    TriageCode.F: frozenset({Disposition.REFER, Disposition.SIGNPOST}),
    TriageCode.G: frozenset({Disposition.ADVICE, Disposition.SIGNPOST}),
}
LOW_LEVEL_CODES = frozenset({TriageCode.E, TriageCode.F, TriageCode.G})


@dataclass(frozen=True)
class Outcome:
    disposition: Disposition
    respond_by: datetime | None
    appointment_minutes: int | None
    modality: Modality | None
    out_of_scope_reason: OutOfScopeReason | None
    destination: Destination | None
    escalate_to: EscalationTarget | None
    contact_outcome: ContactOutcome | None = None
    notes: tuple[str, ...] = ()


def check_decision(decision: DecisionInput) -> None:
    """Refuse a decision whose parts contradict each other (A and B are never refused: they escalate)."""
    code = decision.triage_code
    if code in (TriageCode.A, TriageCode.B):
        return
    if decision.disposition is not None and decision.disposition not in ALLOWED_DISPOSITIONS[code]:
        if decision.disposition is Disposition.OUT_OF_SCOPE:
            raise InvalidDecision(
                "disposition",
                "out_of_scope is decided by the service from the patient's age or low_level_need; "
                "omit disposition, or set low_level_need",
            )
        allowed = ", ".join(sorted(d.value for d in ALLOWED_DISPOSITIONS[code]))
        raise InvalidDecision(
            "disposition",
            f"{decision.disposition.value} contradicts triage code {code.value}; "
            f"code {code.value} allows {allowed} (or omit disposition to take the default)",
        )
    if decision.low_level_need and code not in LOW_LEVEL_CODES:
        raise InvalidDecision(
            "low_level_need",
            f"a low-level need contradicts triage code {code.value} (high or moderate risk); "
            "use code E, F or G for Talking Therapies signposting",
        )


def triage_outcome(
    decision: DecisionInput, *, date_of_birth: date, called_at: datetime, decided_at: datetime
) -> Outcome:
    """Apply the scope rules and the UK MHTS table to an MHP's decision (raises InvalidDecision)."""
    check_decision(decision)
    code = decision.triage_code
    window = RESPONSE_WINDOW[code]
    respond_by = decided_at + window if window is not None else None
    # Risk first: A and B go to emergency services or the crisis team whatever the patient's age,
    # and never to an MHP appointment whatever disposition was asked for.
    if code in (TriageCode.A, TriageCode.B):
        notes: tuple[str, ...] = ()
        if decision.disposition not in (None, Disposition.ESCALATE):
            assert decision.disposition is not None
            notes = (
                f"disposition {decision.disposition.value} replaced by escalate: "
                f"code {code.value} is escalated at once and never given an MHP appointment",
            )
        emergency = code is TriageCode.A
        return Outcome(
            Disposition.ESCALATE,
            respond_by,
            None,
            None,
            OutOfScopeReason.CRISIS,
            Destination.CRISIS_TEAM,
            EscalationTarget.EMERGENCY_SERVICES if emergency else EscalationTarget.CRISIS_TEAM,
            ContactOutcome.EMERGENCY_SERVICES_NOTIFIED
            if emergency
            else ContactOutcome.URGENT_REFERRAL_FACE_TO_FACE,
            notes,
        )
    age = age_on(date_of_birth, called_at.astimezone(LONDON).date())
    if age < MIN_AGE:
        return _out_of_scope(OutOfScopeReason.UNDER_18, Destination.CHILDREN_AND_YOUNG_PEOPLE, respond_by)
    if age > MAX_AGE:
        return _out_of_scope(OutOfScopeReason.OVER_65, Destination.OLDER_ADULTS, respond_by)
    if decision.low_level_need:
        return _out_of_scope(OutOfScopeReason.LOW_LEVEL_NEED, Destination.TALKING_THERAPIES, respond_by)
    disposition = decision.disposition or DEFAULT_DISPOSITION[code]
    if disposition in (Disposition.URGENT_APPOINTMENT, Disposition.APPOINTMENT):
        minutes = COMPLEX_MINUTES if decision.complex_needs else STANDARD_MINUTES
        return Outcome(
            disposition, respond_by, minutes, decision.modality or Modality.TELEPHONE, None, None, None
        )
    if disposition is Disposition.SIGNPOST:
        return Outcome(
            disposition,
            respond_by,
            None,
            None,
            None,
            Destination.TALKING_THERAPIES,
            None,
            ContactOutcome.SIGNPOSTED_NON_NHS,
        )
    if disposition is Disposition.REFER:
        return Outcome(
            disposition, respond_by, None, None, None, None, None, ContactOutcome.NON_URGENT_REFERRAL_NHS
        )
    return Outcome(disposition, respond_by, None, None, None, None, None, ContactOutcome.ADVICE_ON_CALL_ONLY)


def _out_of_scope(reason: OutOfScopeReason, destination: Destination, respond_by: datetime | None) -> Outcome:
    # Redirected to another NHS service (CYPMHS, older adults' MH, Talking Therapies): never dropped.
    return Outcome(
        Disposition.OUT_OF_SCOPE,
        respond_by,
        None,
        None,
        reason,
        destination,
        None,
        ContactOutcome.NON_URGENT_REFERRAL_NHS,
    )
