"""A signposting record: the patient was pointed to a service rather than referred to it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.referrals.domain import events
from services.referrals.domain.decisions import RecordSignpost
from services.referrals.domain.episode import Episode
from shared.contracts.codes import Destination, OutOfScopeReason, SignpostOutcome


@dataclass(kw_only=True)
class Signpost:
    signpost_id: uuid.UUID
    # The event that led to it (call.triaged or a dna.followed_up): never recorded twice.
    source_event_id: uuid.UUID
    correlation_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    destination: Destination
    outcome: SignpostOutcome
    recorded_at: datetime
    event_id: uuid.UUID
    call_id: uuid.UUID | None = None
    appointment_id: uuid.UUID | None = None
    out_of_scope_reason: OutOfScopeReason | None = None

    def __post_init__(self) -> None:
        self.destination = Destination(self.destination)
        self.outcome = SignpostOutcome(self.outcome)
        if self.out_of_scope_reason is not None:
            self.out_of_scope_reason = OutOfScopeReason(self.out_of_scope_reason)

    @classmethod
    def record(
        cls,
        action: RecordSignpost,
        *,
        episode: Episode,
        source_event_id: uuid.UUID,
        now: datetime,
        call_id: uuid.UUID | None = None,
        appointment_id: uuid.UUID | None = None,
    ) -> tuple[Signpost, events.SignpostGiven]:
        given = events.SignpostGiven(
            signpost_id=uuid.uuid4(),
            destination=action.destination,
            outcome=action.outcome,
            call_id=call_id,
            out_of_scope_reason=action.out_of_scope_reason,
        )
        signpost = cls(
            signpost_id=given.signpost_id,
            source_event_id=source_event_id,
            correlation_id=episode.correlation_id,
            pcn_code=episode.pcn_code,
            practice_ods=episode.practice_ods,
            call_id=call_id,
            appointment_id=appointment_id,
            destination=action.destination,
            outcome=action.outcome,
            out_of_scope_reason=action.out_of_scope_reason,
            recorded_at=now,
            event_id=given.event_id,
        )
        return signpost, given
