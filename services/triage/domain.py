"""Triage rules, free of I/O: deadlines from the UK MHTS code, scope rules and worklist priority.

The triage code is the MHP's clinical decision; these rules only derive what follows from it and
enforce the service's scope. No risk score is computed (NICE NG225): red flags only order the worklist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.contracts.codes import (
    DEFAULT_DISPOSITION,
    RESPONSE_WINDOW,
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
STANDARD_MINUTES = 30
COMPLEX_MINUTES = 60

RED_FLAG_PATTERN = re.compile(
    r"\b(suicid\w*|kill (myself|himself|herself|themselves)|end (my|his|her|their) life|overdos\w*"
    r"|self[- ]?harm\w*|cutting|hurt (someone|others|people)|harm (to )?others|voices|hallucinat\w*"
    r"|psychos\w*|psychotic|paranoi\w*)\b",
    re.IGNORECASE,
)


def has_red_flags(reason: str) -> bool:
    """Words in the call's reason that should bring it to the top of the worklist."""
    return RED_FLAG_PATTERN.search(reason) is not None


def age_on(date_of_birth: date, on: date) -> int:
    years = on.year - date_of_birth.year
    if (on.month, on.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


@dataclass(frozen=True)
class DecisionInput:
    triage_code: TriageCode
    clinician: str
    modality: Modality | None = None
    complex_needs: bool = False
    low_level_need: bool = False
    disposition: Disposition | None = None


@dataclass(frozen=True)
class Outcome:
    disposition: Disposition
    respond_by: datetime | None
    appointment_minutes: int | None
    modality: Modality | None
    out_of_scope_reason: OutOfScopeReason | None
    destination: Destination | None
    escalate_to: EscalationTarget | None


def triage_outcome(
    decision: DecisionInput, *, date_of_birth: date, called_at: datetime, decided_at: datetime
) -> Outcome:
    """Apply the scope rules and the UK MHTS table to an MHP's decision."""
    code = decision.triage_code
    window = RESPONSE_WINDOW[code]
    respond_by = decided_at + window if window is not None else None
    # Risk first: A and B go to emergency services or the crisis team whatever the patient's age.
    if code is TriageCode.A:
        return Outcome(
            Disposition.ESCALATE,
            respond_by,
            None,
            None,
            OutOfScopeReason.CRISIS,
            Destination.CRISIS_TEAM,
            EscalationTarget.EMERGENCY_SERVICES,
        )
    if code is TriageCode.B:
        return Outcome(
            Disposition.ESCALATE,
            respond_by,
            None,
            None,
            OutOfScopeReason.CRISIS,
            Destination.CRISIS_TEAM,
            EscalationTarget.CRISIS_TEAM,
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
    destination = Destination.TALKING_THERAPIES if disposition is Disposition.SIGNPOST else None
    return Outcome(disposition, respond_by, None, None, None, destination, None)


def _out_of_scope(reason: OutOfScopeReason, destination: Destination, respond_by: datetime | None) -> Outcome:
    return Outcome(Disposition.OUT_OF_SCOPE, respond_by, None, None, reason, destination, None)
