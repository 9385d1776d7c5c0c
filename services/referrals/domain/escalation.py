"""Escalations as owned work: every `case.escalated` has a named owner, an acknowledgement deadline and a
ladder that climbs to the next owner when nobody acknowledges in time, up to the trust's duty manager.

Open -> acknowledged -> resolved (with an outcome code); a hand-over changes the owner, not the state.
A climb keeps the escalation's id and clinical reason (consumers need to know why, not that it climbed:
`rung` says that) and carries the next owner and a new acknowledge-by. At the last rung the trust is
re-alerted at each deadline, the rung capped: the trust owns it until someone acknowledges it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.referrals.domain.episode import Episode
from services.referrals.domain.escalation_policy import EscalationPolicy
from services.referrals.domain.events import DomainEvent
from shared.contracts.codes import EscalationOutcome, EscalationReason, EscalationTarget
from shared.errors import RuleViolation


class EscalationState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Step(StrEnum):
    RAISED = "raised"
    CLIMBED = "climbed"
    REALERTED = "realerted"
    ACKNOWLEDGED = "acknowledged"
    HANDED_OVER = "handed_over"
    RESOLVED = "resolved"


class EscalationClosed(RuleViolation):
    """An action the escalation's state no longer allows (409)."""


@dataclass(frozen=True, kw_only=True)
class Climbed(DomainEvent):
    """Published as `case.escalated`: the same escalation to its next owner (or the trust re-alerted)."""

    escalation_id: uuid.UUID
    target: EscalationTarget
    reason: EscalationReason
    rung: int
    assigned_to: str | None
    acknowledge_by: datetime
    call_id: uuid.UUID | None
    appointment_id: uuid.UUID | None
    referral_id: uuid.UUID | None
    due_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class Acknowledged(DomainEvent):
    escalation_id: uuid.UUID
    acknowledged_by: str
    target: EscalationTarget
    rung: int


@dataclass(frozen=True, kw_only=True)
class Resolved(DomainEvent):
    escalation_id: uuid.UUID
    resolved_by: str
    outcome: EscalationOutcome
    note: str | None


@dataclass(kw_only=True)
class HistoryEntry:
    escalation_id: uuid.UUID
    seq: int
    at: datetime
    step: Step
    rung: int
    target: EscalationTarget
    owner: str | None
    by: str | None = None
    """The person who acted (None: the bus or the watchdog)."""

    def __post_init__(self) -> None:
        self.step, self.target = Step(self.step), EscalationTarget(self.target)


@dataclass(frozen=True)
class Raised:
    """A `case.escalated` as received: what the escalation is about and who raised it."""

    escalation_id: uuid.UUID
    episode: Episode
    target: EscalationTarget
    reason: EscalationReason
    rung: int
    assigned_to: str | None
    acknowledge_by: datetime | None
    occurred_at: datetime
    event_id: uuid.UUID
    raised_by: str
    call_id: uuid.UUID | None = None
    appointment_id: uuid.UUID | None = None
    referral_id: uuid.UUID | None = None
    due_at: datetime | None = None


@dataclass(kw_only=True)
class Escalation:
    escalation_id: uuid.UUID
    correlation_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    first_target: EscalationTarget
    target: EscalationTarget
    reason: EscalationReason
    raised_at: datetime
    raised_by: str
    """The producer of the first `case.escalated` (e.g. `RMH/triage`)."""
    acknowledge_by: datetime
    call_id: uuid.UUID | None = None
    appointment_id: uuid.UUID | None = None
    referral_id: uuid.UUID | None = None
    due_at: datetime | None = None
    rung: int = 0
    owner: str | None = None
    state: EscalationState = EscalationState.OPEN
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    outcome: EscalationOutcome | None = None
    note: str | None = None
    last_event_id: uuid.UUID
    """The latest `case.escalated` about it: what this service's next event about it follows."""
    version: int = 0
    """Bumped by every stored change: the compare-and-set that stops two replicas climbing one rung twice."""
    history: list[HistoryEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.first_target, self.target = EscalationTarget(self.first_target), EscalationTarget(self.target)
        self.reason, self.state = EscalationReason(self.reason), EscalationState(self.state)
        self.outcome = EscalationOutcome(self.outcome) if self.outcome is not None else None

    @property
    def episode(self) -> Episode:
        return Episode(self.pcn_code, self.practice_ods, self.correlation_id)

    @property
    def origin_event_id(self) -> uuid.UUID:
        return self.last_event_id

    @classmethod
    def raise_from(
        cls, raised: Raised, *, owner: str | None, policy: EscalationPolicy, now: datetime
    ) -> Escalation:
        """Held from the `case.escalated` that raised it. Its clock starts when it happened, or when we heard
        of it if that is earlier (a producer's clock ahead of ours never postpones it); a deadline the
        producer set is kept when sooner than ours. With nobody named it is due at once: the next
        watchdog pass takes it to the next owner."""
        start = min(raised.occurred_at, now)
        deadline = policy.acknowledge_by(raised.target, raised.reason, start)
        if raised.acknowledge_by is not None:
            deadline = min(deadline, raised.acknowledge_by)
        escalation = cls(
            escalation_id=raised.escalation_id,
            correlation_id=raised.episode.correlation_id,
            pcn_code=raised.episode.pcn_code,
            practice_ods=raised.episode.practice_ods,
            first_target=raised.target,
            target=raised.target,
            reason=raised.reason,
            raised_at=start,
            raised_by=raised.raised_by,
            acknowledge_by=deadline if owner is not None else start,
            call_id=raised.call_id,
            appointment_id=raised.appointment_id,
            referral_id=raised.referral_id,
            due_at=raised.due_at,
            rung=raised.rung,
            owner=owner,
            last_event_id=raised.event_id,
        )
        escalation._record(Step.RAISED, now)
        return escalation

    def apply_higher_rung(
        self, raised: Raised, *, owner: str | None, policy: EscalationPolicy, now: datetime
    ) -> bool:
        """Another service climbed it further (this service's own climbs come back at the held rung and
        change nothing): the new owner must acknowledge. A redelivery, or a resolved one, changes nothing."""
        if raised.rung <= self.rung or self.state is EscalationState.RESOLVED:
            return False
        deadline = policy.acknowledge_by(raised.target, raised.reason, min(raised.occurred_at, now))
        if raised.acknowledge_by is not None:
            deadline = min(deadline, raised.acknowledge_by)
        self.rung, self.target, self.owner = raised.rung, raised.target, owner
        self.acknowledge_by = deadline if owner is not None else now
        self.state, self.acknowledged_at, self.acknowledged_by = EscalationState.OPEN, None, None
        self.last_event_id = raised.event_id
        self._record(Step.CLIMBED, now)
        return True

    def due_to_climb(self, now: datetime) -> bool:
        """Open past its acknowledge-by (up to and including the instant is in time)."""
        return self.state is EscalationState.OPEN and now > self.acknowledge_by

    def climb(
        self, *, policy: EscalationPolicy, owner_of: Mapping[EscalationTarget, str | None], now: datetime
    ) -> Climbed:
        """To the next owner on its ladder, or at the last rung the same owner re-alerted.

        `owner_of`: the directory's person for each target of this escalation's practice.
        """
        if not self.due_to_climb(now):
            raise EscalationClosed("the escalation is not open past its acknowledgement deadline")
        following = policy.next_target(self.first_target, self.target)
        if following is None:
            step = Step.REALERTED
        else:
            step = Step.CLIMBED
            self.rung, self.target, self.owner = self.rung + 1, following, owner_of.get(following)
        last_rung = policy.next_target(self.first_target, self.target) is None
        deadline = policy.acknowledge_by(self.target, self.reason, now)
        # Nobody named for a middle rung: due at once, so the next pass goes on up. The last is re-alerted.
        self.acknowledge_by = deadline if self.owner is not None or last_rung else now
        climbed = Climbed(
            escalation_id=self.escalation_id,
            target=self.target,
            reason=self.reason,
            rung=self.rung,
            assigned_to=self.owner,
            acknowledge_by=self.acknowledge_by,
            call_id=self.call_id,
            appointment_id=self.appointment_id,
            referral_id=self.referral_id,
            due_at=self.due_at,
        )
        self.last_event_id = climbed.event_id
        self._record(step, now)
        return climbed

    def acknowledge(self, by: str, now: datetime) -> Acknowledged:
        if self.state is not EscalationState.OPEN:
            raise EscalationClosed(f"the escalation is already {self.state.value}")
        self.state, self.acknowledged_at, self.acknowledged_by = EscalationState.ACKNOWLEDGED, now, by
        self._record(Step.ACKNOWLEDGED, now, by)
        return Acknowledged(
            escalation_id=self.escalation_id, acknowledged_by=by, target=self.target, rung=self.rung
        )

    def resolve(
        self, by: str, outcome: EscalationOutcome, note: str | None, now: datetime
    ) -> list[DomainEvent]:
        """Closed with what was done; resolving an open one acknowledges it first (its time counts)."""
        if self.state is EscalationState.RESOLVED:
            raise EscalationClosed("the escalation is already resolved")
        happened: list[DomainEvent] = []
        if self.state is EscalationState.OPEN:
            happened.append(self.acknowledge(by, now))
        self.state, self.resolved_at, self.resolved_by = EscalationState.RESOLVED, now, by
        self.outcome, self.note = outcome, note
        self._record(Step.RESOLVED, now, by)
        happened.append(
            Resolved(escalation_id=self.escalation_id, resolved_by=by, outcome=outcome, note=note)
        )
        return happened

    def hand_over(self, by: str, to: str, now: datetime) -> None:
        """Another named person owns it; the acknowledgement clock keeps running (a hand-over never
        postpones the ladder)."""
        if self.state is EscalationState.RESOLVED:
            raise EscalationClosed("the escalation is already resolved")
        if to == self.owner:
            raise EscalationClosed("the escalation is already owned by that person")
        self.owner = to
        self._record(Step.HANDED_OVER, now, by)

    def _record(self, step: Step, now: datetime, by: str | None = None) -> None:
        self.history.append(
            HistoryEntry(
                escalation_id=self.escalation_id,
                seq=len(self.history),
                at=now,
                step=step,
                rung=self.rung,
                target=self.target,
                owner=self.owner,
                by=by,
            )
        )
