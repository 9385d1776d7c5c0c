"""Rules applied when a call arrives: is the caller's identity plausible, where does it go on the worklist.

No risk score is computed (NICE NG225): red flags only order the worklist.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import IntEnum

from shared.contracts.codes import CallerUrgency
from shared.errors import RuleViolation
from shared.working_time import LONDON

OLDEST_PLAUSIBLE_AGE = 125

RED_FLAG_PATTERN = re.compile(
    r"\b(suicid\w*|kill (myself|himself|herself|themselves)|end (my|his|her|their) life|overdos\w*"
    r"|self[- ]?harm\w*|cutting|hurt (someone|others|people)|harm (to )?others|voices|hallucinat\w*"
    r"|psychos\w*|psychotic|paranoi\w*)\b",
    re.IGNORECASE,
)


class Priority(IntEnum):
    """Worklist priority: lower comes first (stored as the integer)."""

    RED_FLAGS = 0
    CALLER_URGENT = 1
    ROUTINE = 2


class ImplausibleIdentity(RuleViolation):
    """The caller's date of birth cannot be right; the reason names the field, never its value."""


def has_red_flags(reason: str) -> bool:
    """Words in the call's reason that should bring it to the top of the worklist."""
    return RED_FLAG_PATTERN.search(reason) is not None


def worklist_priority(reason: str, caller_urgency: CallerUrgency) -> Priority:
    if has_red_flags(reason):
        return Priority.RED_FLAGS
    return Priority.CALLER_URGENT if caller_urgency is CallerUrgency.URGENT else Priority.ROUTINE


def age_on(date_of_birth: date, on: date) -> int:
    years = on.year - date_of_birth.year
    if (on.month, on.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def call_day(called_at: datetime) -> date:
    """The day of the call in London: ages and scope are judged on it."""
    return called_at.astimezone(LONDON).date()


def identity_problem(date_of_birth: date, called_at: datetime) -> str | None:
    """Why a caller's date of birth cannot be right, naming the field but never its value."""
    day = call_day(called_at)
    if date_of_birth > day:
        return "data.patient.date_of_birth: is after the date of the call; check the patient's record"
    if age_on(date_of_birth, day) > OLDEST_PLAUSIBLE_AGE:
        return (
            f"data.patient.date_of_birth: gives an age over {OLDEST_PLAUSIBLE_AGE}; "
            "check the patient's record"
        )
    return None


def check_identity(date_of_birth: date, called_at: datetime) -> None:
    """Raise ImplausibleIdentity when `identity_problem` finds one."""
    problem = identity_problem(date_of_birth, called_at)
    if problem is not None:
        raise ImplausibleIdentity(problem)
