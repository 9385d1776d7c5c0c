"""The port referrals' handlers work through: its repositories and the events staged with them.

Everything done through one unit of work commits together with its staged events, or nothing does.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from services.referrals.domain.decisions import IgnoredDecision, TriageDecision
from services.referrals.domain.escalation import Escalation, EscalationState
from services.referrals.domain.follow_up import DnaEpisode, DnaFollowUp
from services.referrals.domain.referral import Referral
from services.referrals.domain.signpost import Signpost
from shared.contracts.codes import Destination, SignpostOutcome, TriageCode
from shared.contracts.envelope import Envelope


class ReferralRepository(Protocol):
    async def get(self, referral_id: uuid.UUID) -> Referral | None: ...
    async def add(self, referral: Referral) -> None: ...
    async def save(self, referral: Referral) -> None: ...
    async def services_tried(self, root_referral_id: uuid.UUID) -> set[str]: ...
    async def first_made_for_call(self, call_id: uuid.UUID, destination: Destination) -> bool:
        """A chain for this call and destination exists (the call re-sent under a new event id)."""
        ...

    async def first_made_for_appointment(self, appointment_id: uuid.UUID) -> bool: ...
    async def open_from_triage(self, call_id: uuid.UUID) -> list[Referral]:
        """The call's open referrals that a triage decision made (not those after an appointment)."""
        ...

    async def chain(self, root_referral_id: uuid.UUID) -> list[Referral]:
        """Every referral of a re-routing chain, oldest first."""
        ...

    async def open_in(
        self, pcn_code: str, practice_ods: str | None, *, offset: int = 0, limit: int | None = None
    ) -> list[Referral]:
        """Open referrals, oldest first (ties by id, so pages never overlap)."""
        ...

    async def due_for_chase(self, now: datetime, limit: int) -> list[Referral]: ...
    async def claim_chase(self, referral: Referral) -> bool:
        """Store the chase only if no one chased it since it was read (compare-and-set); True if stored."""
        ...


class SignpostRepository(Protocol):
    async def add(self, signpost: Signpost) -> None: ...
    async def recorded_for_call(
        self, call_id: uuid.UUID, destination: Destination, outcome: SignpostOutcome
    ) -> bool: ...


class FollowUpRepository(Protocol):
    async def get(self, follow_up_id: uuid.UUID) -> DnaFollowUp | None: ...
    async def add(self, follow_up: DnaFollowUp) -> None: ...
    async def save(self, follow_up: DnaFollowUp) -> None: ...
    async def opened_for_appointment(self, appointment_id: uuid.UUID) -> bool: ...
    async def open_in(
        self, pcn_code: str, practice_ods: str | None, *, offset: int = 0, limit: int | None = None
    ) -> list[DnaFollowUp]:
        """Open follow-ups, soonest deadline first (ties by id)."""
        ...

    async def due_for_escalation(self, now: datetime, limit: int) -> list[DnaFollowUp]: ...
    async def claim_escalation(self, follow_up: DnaFollowUp) -> bool:
        """Store the escalation only if none was stored since it was read (compare-and-set)."""
        ...


class CallDecisionRepository(Protocol):
    """The newest triage decision applied per call, and the decisions ignored (for the audit)."""

    async def applied_for(self, call_id: uuid.UUID) -> TriageDecision | None: ...
    async def apply(
        self, decision: TriageDecision, *, replacing: TriageDecision | None, at: datetime
    ) -> None:
        """Store it as the call's newest; raises DecisionRaced if `replacing` is no longer the one stored."""
        ...

    async def record_ignored(self, ignored: IgnoredDecision) -> None: ...
    async def triage_code_for_episode(self, correlation_id: uuid.UUID) -> TriageCode | None:
        """The most urgent code among the episode's calls' current decisions (a call re-triaged counts only
        with its newest); None if none was heard of here."""
        ...


class EscalationRepository(Protocol):
    async def get(self, escalation_id: uuid.UUID) -> Escalation | None: ...
    async def add(self, escalation: Escalation) -> None: ...
    async def save(self, escalation: Escalation) -> bool:
        """Store it only if nobody changed it since it was read (its version); True if stored."""
        ...

    async def due_to_climb(self, now: datetime, limit: int) -> list[Escalation]:
        """Open past their acknowledge-by, the most overdue first."""
        ...

    async def inbox(
        self,
        *,
        owner: str,
        targets: frozenset[str],
        pcns: frozenset[str],
        state: EscalationState | None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Escalation]:
        """Owned by `owner` or at one of `targets`, in `pcns`; soonest acknowledge-by first (ties by id)."""
        ...


class DnaEpisodeRepository(Protocol):
    async def get(self, correlation_id: uuid.UUID) -> DnaEpisode | None: ...
    async def save(self, episode: DnaEpisode) -> None: ...


class ReferralsUnitOfWork(Protocol):
    # Read-only members, so an adapter's own repository classes satisfy them.
    @property
    def referrals(self) -> ReferralRepository: ...
    @property
    def signposts(self) -> SignpostRepository: ...
    @property
    def follow_ups(self) -> FollowUpRepository: ...
    @property
    def dna_episodes(self) -> DnaEpisodeRepository: ...
    @property
    def decisions(self) -> CallDecisionRepository: ...
    @property
    def escalations(self) -> EscalationRepository: ...

    def add_event(self, event: Envelope[Any]) -> None: ...
