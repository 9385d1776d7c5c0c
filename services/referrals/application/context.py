"""What every referrals handler may use besides its unit of work; built once in `bootstrap.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from services.referrals.domain.deadlines import Deadlines
from services.referrals.domain.directory import Directory
from services.referrals.domain.escalation_policy import EscalationPolicy
from services.referrals.domain.follow_up_urgency import FollowUpPolicy
from shared.db import utcnow


@dataclass(frozen=True)
class ReferralsContext:
    producer: str  # `<organisation>/referrals`
    directory: Directory = field(default_factory=lambda: Directory(pcns={}))
    clock: Callable[[], datetime] = utcnow
    deadlines: Deadlines = field(default_factory=Deadlines)
    # How soon a missed appointment is followed up, by the case's triage code.
    follow_up_policy: FollowUpPolicy = field(default_factory=FollowUpPolicy)
    # Acknowledgement deadlines and ladders of the escalations this service owns.
    escalation_policy: EscalationPolicy = field(default_factory=EscalationPolicy)
