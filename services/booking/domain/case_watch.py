"""The case watch: a waiting case is re-escalated until it is booked, and an appointment whose time passed
without an outcome is escalated once. Pure rules; the watchdog's handlers apply them with compare-and-set.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType

from services.booking.domain.appointment import Appointment
from services.booking.domain.events import CaseNeedsEscalation
from services.booking.domain.waitlist import WaitlistEntry
from shared.contracts.codes import EscalationReason, EscalationTarget, TriageCode

# Often enough that the owner sees the case again well inside its UK MHTS window (C 24 h, D 72 h,
# E 4 weeks), rarely enough that a routine case does not flood the clinical lead's inbox.
DEFAULT_REESCALATE_EVERY: Mapping[TriageCode, timedelta] = MappingProxyType(
    {
        TriageCode.C: timedelta(hours=2),
        TriageCode.D: timedelta(hours=8),
        TriageCode.E: timedelta(days=1),
    }
)
DEFAULT_REESCALATE_OTHERWISE = timedelta(hours=8)
"""A waiting case with no triage code of its own (a provider-cancelled direct booking or follow-up)."""


@dataclass(frozen=True)
class CaseWatchPolicy:
    reescalate_every: Mapping[TriageCode, timedelta] = field(default_factory=lambda: DEFAULT_REESCALATE_EVERY)
    otherwise: timedelta = DEFAULT_REESCALATE_OTHERWISE

    def interval_for(self, code: TriageCode | None) -> timedelta:
        if code is None:
            return self.otherwise
        return self.reescalate_every.get(code, self.otherwise)


@dataclass(frozen=True)
class WaitlistWatch:
    """What the watch has done for one waiting case; `next_check_at` is when it looks again."""

    entry_id: uuid.UUID
    next_check_at: datetime
    escalations: int = 0
    """Re-escalations sent by the watch (the one at waitlisting not counted)."""
    breach_escalated_at: datetime | None = None


@dataclass(frozen=True)
class WatchStep:
    """The state to claim and, unless the step only schedules the first look, the escalation to send."""

    watch: WaitlistWatch
    escalation: CaseNeedsEscalation | None


def first_look(entry: WaitlistEntry, interval: timedelta) -> datetime:
    """An interval after waitlisting (which escalated already), and never later than the deadline."""
    return min(entry.created_at + interval, entry.respond_by)


def next_watch_step(
    entry: WaitlistEntry,
    watch: WaitlistWatch | None,
    *,
    code: TriageCode | None,
    policy: CaseWatchPolicy,
    now: datetime,
    call_known: bool,
) -> WatchStep | None:
    """At risk every interval until the deadline; at the deadline once as a breach; then, still unbooked,
    a breach again every interval (nobody may forget a case waiting past its deadline).

    None: nothing to do yet. `call_known`: the entry's call_id is a real call (not a direct booking's key).
    """
    interval = policy.interval_for(code)
    if watch is None:
        due = first_look(entry, interval)
        if due > now:
            return WatchStep(WaitlistWatch(entry.entry_id, next_check_at=due), None)
        watch = WaitlistWatch(entry.entry_id, next_check_at=due)
    elif watch.next_check_at > now:
        return None
    breached = now >= entry.respond_by
    following = now + interval if breached else min(now + interval, entry.respond_by)
    claimed = replace(watch, next_check_at=following, escalations=watch.escalations + 1)
    if breached and watch.breach_escalated_at is None:
        claimed = replace(claimed, breach_escalated_at=now)
    reason = (
        EscalationReason.APPOINTMENT_DEADLINE_BREACH
        if breached
        else EscalationReason.APPOINTMENT_DEADLINE_AT_RISK
    )
    escalation = CaseNeedsEscalation(
        target=EscalationTarget.PRACTICE_CLINICAL_LEAD,
        reason=reason,
        pcn_code=entry.pcn_code,
        practice_ods=entry.practice_ods,
        correlation_id=entry.correlation_id,
        call_id=entry.call_id if call_known else None,
        appointment_id=None,
        due_at=entry.respond_by,
    )
    return WatchStep(claimed, escalation)


def outcome_review_due(appointment: Appointment, review_after: timedelta, now: datetime) -> bool:
    """Still booked (no outcome recorded) a whole review window after it ended."""
    return appointment.is_booked and appointment.ends_at + review_after <= now


def outcome_missing(appointment: Appointment, review_after: timedelta) -> CaseNeedsEscalation:
    """The practice's clinical lead must find out if the patient was seen (booking never guesses a DNA)."""
    return CaseNeedsEscalation(
        target=EscalationTarget.PRACTICE_CLINICAL_LEAD,
        reason=EscalationReason.OUTCOME_MISSING,
        pcn_code=appointment.pcn_code,
        practice_ods=appointment.home_practice_ods,
        correlation_id=appointment.correlation_id,
        call_id=appointment.call_id,
        appointment_id=appointment.appointment_id,
        due_at=appointment.ends_at + review_after,
    )
