"""What every triage handler may use besides its unit of work; built once in `bootstrap.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.triage.domain.deadlines import CallbackPolicy
from services.triage.domain.out_of_hours import OutOfHoursPolicy
from services.triage.domain.red_flags import RedFlagVocabulary


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TriageContext:
    producer: str  # `<organisation>/triage`
    clock: Callable[[], datetime] = _utcnow
    callbacks: CallbackPolicy = field(default_factory=CallbackPolicy)
    # bootstrap passes the trust's vocabulary (validated non-empty at start-up); a context built without
    # one, in a test that only records decisions, flags nothing.
    red_flags: RedFlagVocabulary = field(default_factory=lambda: RedFlagVocabulary(()))
    out_of_hours: OutOfHoursPolicy = field(default_factory=OutOfHoursPolicy)
