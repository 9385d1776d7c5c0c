"""What every triage handler may use besides its unit of work; built once in `bootstrap.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.triage.domain.deadlines import CallbackPolicy


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TriageContext:
    producer: str  # `<organisation>/triage`
    clock: Callable[[], datetime] = _utcnow
    callbacks: CallbackPolicy = field(default_factory=CallbackPolicy)
