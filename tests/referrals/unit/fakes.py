"""In-memory referrals unit of work: repositories that hold copies, so a handler must save what it changes."""

from __future__ import annotations

import copy
import uuid
from datetime import datetime
from typing import Any, TypeVar

from services.referrals.application.context import ReferralsContext
from services.referrals.domain.deadlines import Deadlines
from services.referrals.domain.decisions import DecisionRaced, IgnoredDecision, TriageDecision
from services.referrals.domain.directory import Defaults, Directory, PcnDirectory, ReceivingService
from services.referrals.domain.episode import Episode
from services.referrals.domain.escalation import Raised
from services.referrals.domain.follow_up import DnaEpisode, DnaFollowUp, FollowUpStatus
from services.referrals.domain.lifecycle import OPEN_STATUSES
from services.referrals.domain.referral import Referral
from services.referrals.domain.signpost import Signpost
from shared.contracts.codes import (
    Destination,
    EscalationReason,
    EscalationTarget,
    SignpostOutcome,
    TriageCode,
)
from shared.working_time import WorkingCalendar
from tests.referrals.unit.escalation_fakes import FakeEscalations
from tests.support.clock import MONDAY_10AM, FakeClock
from tests.support.fake_uow import FakeUnitOfWork

T = TypeVar("T")

PCN = "U00123"
PRACTICE = "Y01234"
LEAD = "lead.y01234"


def _copy(item: T) -> T:
    return copy.deepcopy(item)


class FakeReferrals:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Referral] = {}
        self.refuse_claims = False
        """Act as if another instance chased first (the compare-and-set fails)."""

    async def get(self, referral_id: uuid.UUID) -> Referral | None:
        found = self.rows.get(referral_id)
        return _copy(found) if found is not None else None

    async def add(self, referral: Referral) -> None:
        assert referral.referral_id not in self.rows
        assert all(r.source_event_id != referral.source_event_id for r in self.rows.values()), "unique"
        self.rows[referral.referral_id] = _copy(referral)

    async def save(self, referral: Referral) -> None:
        assert referral.referral_id in self.rows
        self.rows[referral.referral_id] = _copy(referral)

    async def services_tried(self, root_referral_id: uuid.UUID) -> set[str]:
        return {
            r.service_code
            for r in self.rows.values()
            if r.root_referral_id == root_referral_id and r.service_code is not None
        }

    async def first_made_for_call(self, call_id: uuid.UUID, destination: Destination) -> bool:
        return any(
            r.call_id == call_id and r.destination is destination and r.previous_referral_id is None
            for r in self.rows.values()
        )

    async def first_made_for_appointment(self, appointment_id: uuid.UUID) -> bool:
        return any(
            r.appointment_id == appointment_id and r.previous_referral_id is None for r in self.rows.values()
        )

    async def open_from_triage(self, call_id: uuid.UUID) -> list[Referral]:
        return [
            _copy(r)
            for r in self.rows.values()
            if r.call_id == call_id and r.appointment_id is None and r.status in OPEN_STATUSES
        ]

    async def chain(self, root_referral_id: uuid.UUID) -> list[Referral]:
        chain = [r for r in self.rows.values() if r.root_referral_id == root_referral_id]
        return [_copy(r) for r in sorted(chain, key=lambda r: r.made_at)]

    async def open_in(
        self, pcn_code: str, practice_ods: str | None, *, offset: int = 0, limit: int | None = None
    ) -> list[Referral]:
        found = [
            r
            for r in self.rows.values()
            if r.pcn_code == pcn_code
            and r.status in OPEN_STATUSES
            and (not practice_ods or r.practice_ods == practice_ods)
        ]
        ordered = sorted(found, key=lambda r: (r.made_at, r.referral_id))
        return [_copy(r) for r in ordered[offset : None if limit is None else offset + limit]]

    async def due_for_chase(self, now: datetime, limit: int) -> list[Referral]:
        due = [r for r in self.rows.values() if r.due_for_chase(now)]
        return [_copy(r) for r in sorted(due, key=lambda r: r.response_due_at or now)[:limit]]

    async def claim_chase(self, referral: Referral) -> bool:
        stored = self.rows[referral.referral_id]
        if self.refuse_claims or stored.chased_at is not None:
            return False
        stored.chased_at, stored.chase_event_id = referral.chased_at, referral.chase_event_id
        return True


class FakeSignposts:
    def __init__(self) -> None:
        self.rows: list[Signpost] = []

    async def add(self, signpost: Signpost) -> None:
        self.rows.append(_copy(signpost))

    async def recorded_for_call(
        self, call_id: uuid.UUID, destination: Destination, outcome: SignpostOutcome
    ) -> bool:
        return any(
            s.call_id == call_id and s.destination is destination and s.outcome is outcome for s in self.rows
        )


class FakeFollowUps:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, DnaFollowUp] = {}
        self.refuse_claims = False

    async def get(self, follow_up_id: uuid.UUID) -> DnaFollowUp | None:
        found = self.rows.get(follow_up_id)
        return _copy(found) if found is not None else None

    async def add(self, follow_up: DnaFollowUp) -> None:
        assert all(f.appointment_id != follow_up.appointment_id for f in self.rows.values()), "unique"
        self.rows[follow_up.follow_up_id] = _copy(follow_up)

    async def save(self, follow_up: DnaFollowUp) -> None:
        assert follow_up.follow_up_id in self.rows
        self.rows[follow_up.follow_up_id] = _copy(follow_up)

    async def opened_for_appointment(self, appointment_id: uuid.UUID) -> bool:
        return any(f.appointment_id == appointment_id for f in self.rows.values())

    async def open_in(
        self, pcn_code: str, practice_ods: str | None, *, offset: int = 0, limit: int | None = None
    ) -> list[DnaFollowUp]:
        found = [
            f
            for f in self.rows.values()
            if f.pcn_code == pcn_code
            and f.status is FollowUpStatus.OPEN
            and (not practice_ods or f.practice_ods == practice_ods)
        ]
        ordered = sorted(found, key=lambda f: (f.due_at, f.follow_up_id))
        return [_copy(f) for f in ordered[offset : None if limit is None else offset + limit]]

    async def due_for_escalation(self, now: datetime, limit: int) -> list[DnaFollowUp]:
        due = [f for f in self.rows.values() if f.due_for_escalation(now)]
        return [_copy(f) for f in sorted(due, key=lambda f: f.due_at)[:limit]]

    async def claim_escalation(self, follow_up: DnaFollowUp) -> bool:
        stored = self.rows[follow_up.follow_up_id]
        if self.refuse_claims or stored.escalated_at is not None:
            return False
        stored.escalated_at, stored.escalation_event_id = (
            follow_up.escalated_at,
            follow_up.escalation_event_id,
        )
        return True


class FakeDnaEpisodes:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, DnaEpisode] = {}

    async def get(self, correlation_id: uuid.UUID) -> DnaEpisode | None:
        found = self.rows.get(correlation_id)
        return _copy(found) if found is not None else None

    async def save(self, episode: DnaEpisode) -> None:
        self.rows[episode.correlation_id] = _copy(episode)


class FakeDecisions:
    def __init__(self) -> None:
        self.applied: dict[uuid.UUID, tuple[TriageDecision, datetime]] = {}
        self.ignored: dict[uuid.UUID, IgnoredDecision] = {}

    async def applied_for(self, call_id: uuid.UUID) -> TriageDecision | None:
        found = self.applied.get(call_id)
        return found[0] if found is not None else None

    async def apply(
        self, decision: TriageDecision, *, replacing: TriageDecision | None, at: datetime
    ) -> None:
        if await self.applied_for(decision.call_id) != replacing:
            raise DecisionRaced("another decision for the call was applied first")
        self.applied[decision.call_id] = (decision, at)

    async def record_ignored(self, ignored: IgnoredDecision) -> None:
        self.ignored[ignored.decision.event_id] = ignored

    async def triage_code_for_episode(self, correlation_id: uuid.UUID) -> TriageCode | None:
        codes = [d.triage_code for d, _ in self.applied.values() if d.correlation_id == correlation_id]
        return min((c for c in codes if c is not None), default=None)


class FakeReferralsUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.referrals = FakeReferrals()
        self.signposts = FakeSignposts()
        self.follow_ups = FakeFollowUps()
        self.dna_episodes = FakeDnaEpisodes()
        self.decisions = FakeDecisions()
        self.escalations = FakeEscalations()

    def one(self, kind: type[T]) -> T:
        [event] = self.events_of(kind)
        return event  # type: ignore[no-any-return]

    def types(self) -> list[str]:
        return [e.event_type for e in self.events]


def services(*codes: str) -> tuple[ReceivingService, ...]:
    # Every test service is answered on the bus by the demo's receiving organisation.
    return tuple(ReceivingService(code, code.upper(), answered_by=ANSWERED_BY) for code in codes)


ANSWERED_BY = "RX4"


DIRECTORY = Directory(
    defaults=Defaults(),
    pcns={
        PCN: PcnDirectory(
            destinations={
                Destination.COMMUNITY_MENTAL_HEALTH_TEAM: services("cmht-east", "cmht-west"),
                Destination.TALKING_THERAPIES: services("tt-north"),
                Destination.SOCIAL_PRESCRIBING: services("spl"),
            },
            clinical_leads={PRACTICE: LEAD},
        )
    },
)


def context(clock: FakeClock, **overrides: Any) -> ReferralsContext:
    fields: dict[str, Any] = {
        "producer": "RMH/referrals",
        "directory": DIRECTORY,
        "clock": clock,
        "deadlines": Deadlines(calendar=WorkingCalendar()),
    }
    fields.update(overrides)
    return ReferralsContext(**fields)


def raised(
    target: EscalationTarget = EscalationTarget.PRACTICE_CLINICAL_LEAD,
    reason: EscalationReason = EscalationReason.RISK,
    **fields: object,
) -> Raised:
    """A `case.escalated` as referrals receives it: booking's, naming nobody, at Monday 10:00."""
    values: dict[str, object] = {
        "escalation_id": uuid.uuid4(),
        "episode": Episode(PCN, PRACTICE, uuid.uuid4()),
        "target": target,
        "reason": reason,
        "rung": 0,
        "assigned_to": None,
        "acknowledge_by": None,
        "occurred_at": MONDAY_10AM,
        "event_id": uuid.uuid4(),
        "raised_by": "RMH/booking",
    } | fields
    return Raised(**values)  # type: ignore[arg-type]
