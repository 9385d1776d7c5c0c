"""Rules applied when a call arrives: is the caller's identity plausible, where does it go on the worklist.

No risk score is computed (NICE NG225): red flags (the trust's vocabulary, `red_flags`) only order the
worklist.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum

from shared.contracts.codes import CallerUrgency
from shared.contracts.text import date_of_birth_problem
from shared.errors import RuleViolation
from shared.working_time import LONDON


class Priority(IntEnum):
    """Worklist priority: lower comes first (stored as the integer)."""

    RED_FLAGS = 0
    CALLER_URGENT = 1
    ROUTINE = 2


class ImplausibleIdentity(RuleViolation):
    """The caller's date of birth cannot be right; the reason names the field, never its value."""


def worklist_priority(red_flags: bool, caller_urgency: CallerUrgency) -> Priority:
    if red_flags:
        return Priority.RED_FLAGS
    return Priority.CALLER_URGENT if caller_urgency is CallerUrgency.URGENT else Priority.ROUTINE


def call_day(called_at: datetime) -> date:
    """The day of the call in London: ages and scope are judged on it."""
    return called_at.astimezone(LONDON).date()


def check_identity(date_of_birth: date, called_at: datetime) -> None:
    """Raise ImplausibleIdentity when the contract's date-of-birth rule finds a problem (one rule for all)."""
    problem = date_of_birth_problem(date_of_birth, call_day(called_at))
    if problem is not None:
        raise ImplausibleIdentity(problem)
