"""Staging what the aggregates report as referrals' contract events, in the unit of work's outbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from services.referrals.application.context import ReferralsContext
from services.referrals.application.unit_of_work import ReferralsUnitOfWork
from services.referrals.domain import escalation, events
from services.referrals.domain.episode import Episode
from shared.contracts import v1
from shared.contracts.envelope import Contract, Envelope


class Record(Protocol):
    """A referral or follow-up: the episode it belongs to and the event it started from."""

    @property
    def episode(self) -> Episode: ...
    @property
    def origin_event_id(self) -> uuid.UUID | None: ...


@dataclass(frozen=True)
class Where:
    """The episode and organisation the events are about, and the event that caused them."""

    episode: Episode
    causation_id: uuid.UUID | None

    @classmethod
    def following(cls, record: Record) -> Where:
        """Events about a record that no consumed event caused follow the event the record started from."""
        return cls(record.episode, record.origin_event_id)


def publish(
    uow: ReferralsUnitOfWork,
    ctx: ReferralsContext,
    where: Where,
    now: datetime,
    happened: Iterable[events.DomainEvent],
) -> None:
    for event in happened:
        uow.add_event(envelope(ctx, where, now, event))


def envelope(ctx: ReferralsContext, where: Where, now: datetime, event: events.DomainEvent) -> Envelope[Any]:
    cls, data = _contract(ctx, where.episode, event, now)
    return cls.create(
        data,
        producer=ctx.producer,
        pcn_code=where.episode.pcn_code,
        practice_ods=where.episode.practice_ods,
        correlation_id=where.episode.correlation_id,
        causation_id=where.causation_id,
        occurred_at=now,
        event_id=event.event_id,
    )


def _contract(
    ctx: ReferralsContext, episode: Episode, event: events.DomainEvent, now: datetime
) -> tuple[type[Envelope[Any]], Contract]:
    match event:
        case events.ReferralSent():
            return v1.ReferralMade, v1.ReferralMadeData(
                referral_id=event.referral_id,
                destination=event.destination,
                call_id=event.call_id,
                appointment_id=event.appointment_id,
                previous_referral_id=event.previous_referral_id,
                destination_service=event.service_code,
            )
        case events.ReferralAccepted():
            return v1.ReferralAccepted, v1.ReferralAcceptedData(referral_id=event.referral_id)
        case events.ReferralWithdrawn():
            return v1.ReferralWithdrawn, v1.ReferralWithdrawnData(
                referral_id=event.referral_id, reason=event.reason, call_id=event.call_id
            )
        case events.ReferralCompleted():
            return v1.ReferralCompleted, v1.ReferralCompletedData(referral_id=event.referral_id)
        case events.ReferralDeclined():
            return v1.ReferralDeclined, v1.ReferralDeclinedData(
                referral_id=event.referral_id, reason=event.reason, reason_code=event.reason_code
            )
        case events.Escalated():
            return v1.CaseEscalated, v1.CaseEscalatedData(
                escalation_id=uuid.uuid4(),
                target=event.target,
                reason=event.reason,
                referral_id=event.referral_id,
                appointment_id=event.appointment_id,
                due_at=event.due_at,
                assigned_to=ctx.directory.owner(
                    event.target, event.reason, episode.pcn_code, episode.practice_ods
                ),
                # The deadline this service holds it to when its own event comes back (on_case_escalated).
                acknowledge_by=ctx.escalation_policy.acknowledge_by(event.target, event.reason, now),
            )
        case escalation.Climbed():
            return v1.CaseEscalated, v1.CaseEscalatedData(
                escalation_id=event.escalation_id,
                target=event.target,
                reason=event.reason,
                call_id=event.call_id,
                appointment_id=event.appointment_id,
                referral_id=event.referral_id,
                due_at=event.due_at,
                assigned_to=event.assigned_to,
                rung=event.rung,
                acknowledge_by=event.acknowledge_by,
            )
        case escalation.Acknowledged():
            return v1.EscalationAcknowledged, v1.EscalationAcknowledgedData(
                escalation_id=event.escalation_id,
                acknowledged_by=event.acknowledged_by,
                target=event.target,
                rung=event.rung,
            )
        case escalation.Resolved():
            return v1.EscalationResolved, v1.EscalationResolvedData(
                escalation_id=event.escalation_id,
                resolved_by=event.resolved_by,
                outcome=event.outcome,
                note=event.note,
            )
        case events.SignpostGiven():
            return v1.SignpostRecorded, v1.SignpostRecordedData(
                signpost_id=event.signpost_id,
                destination=event.destination,
                outcome=event.outcome,
                call_id=event.call_id,
                out_of_scope_reason=event.out_of_scope_reason,
            )
        case events.DnaFollowedUp():
            return v1.DnaFollowedUp, v1.DnaFollowedUpData(
                appointment_id=event.appointment_id, outcome=event.outcome
            )
    raise TypeError(f"no contract event for {type(event).__name__}")
