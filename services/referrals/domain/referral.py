"""The referral aggregate: its lifecycle, re-routing after a decline, redirection and chasing.

A referral chain starts with one referral; each decline re-routes to the next untried service of the
kind (a new referral pointing at the previous one), and with nowhere left it stays open, unplaced, for
the practice's clinical lead, who may redirect it to another kind of service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.referrals.domain import events
from services.referrals.domain.deadlines import Deadlines
from services.referrals.domain.episode import Episode
from services.referrals.domain.lifecycle import (
    InvalidTransition,
    ReferralStatus,
    Response,
    apply_response,
    decline_note,
    is_open,
)
from shared.contracts.codes import (
    Destination,
    EscalationReason,
    EscalationTarget,
    ReferralDeclineReason,
    ReferralWithdrawnReason,
)


def bounced(referral_id: uuid.UUID) -> events.Escalated:
    """A referral that found no service (or was declined) goes to the practice's clinical lead."""
    return events.Escalated(
        target=EscalationTarget.PRACTICE_CLINICAL_LEAD,
        reason=EscalationReason.BOUNCED_REFERRAL,
        referral_id=referral_id,
    )


@dataclass(kw_only=True)
class Referral:
    referral_id: uuid.UUID
    root_referral_id: uuid.UUID
    correlation_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    destination: Destination
    status: ReferralStatus
    # The event that led to this referral (call.triaged, appointment.attended or a decline): never twice.
    source_event_id: uuid.UUID
    made_at: datetime
    previous_referral_id: uuid.UUID | None = None
    call_id: uuid.UUID | None = None
    appointment_id: uuid.UUID | None = None
    service_code: str | None = None
    made_event_id: uuid.UUID | None = None
    response_due_at: datetime | None = None
    accepted_at: datetime | None = None
    completed_at: datetime | None = None
    declined_at: datetime | None = None
    decline_reason: str | None = None
    rerouted_to: uuid.UUID | None = None
    redirected_by: str | None = None
    bounce_escalation_event_id: uuid.UUID | None = None
    chased_at: datetime | None = None
    chase_event_id: uuid.UUID | None = None
    withdrawn_at: datetime | None = None
    withdrawal_event_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        self.status = ReferralStatus(self.status)
        self.destination = Destination(self.destination)

    @property
    def episode(self) -> Episode:
        return Episode(self.pcn_code, self.practice_ods, self.correlation_id)

    @property
    def decline_reason_code(self) -> ReferralDeclineReason | None:
        code = (self.decline_reason or "").split(":", 1)[0]
        return ReferralDeclineReason(code) if code in set(ReferralDeclineReason) else None

    @property
    def needs_clinical_lead(self) -> bool:
        return self.status is ReferralStatus.UNPLACED

    @classmethod
    def make(
        cls,
        *,
        episode: Episode,
        destination: Destination,
        service_code: str | None,
        source_event_id: uuid.UUID,
        now: datetime,
        deadlines: Deadlines,
        call_id: uuid.UUID | None = None,
        appointment_id: uuid.UUID | None = None,
        previous: Referral | None = None,
    ) -> tuple[Referral, list[events.DomainEvent]]:
        """Refer to `service_code`; with none it stays open (unplaced) for the clinical lead, not dropped."""
        referral_id = uuid.uuid4()
        referral = cls(
            referral_id=referral_id,
            root_referral_id=previous.root_referral_id if previous is not None else referral_id,
            previous_referral_id=previous.referral_id if previous is not None else None,
            correlation_id=episode.correlation_id,
            pcn_code=episode.pcn_code,
            practice_ods=episode.practice_ods,
            call_id=call_id,
            appointment_id=appointment_id,
            destination=destination,
            service_code=service_code,
            status=ReferralStatus.MADE if service_code is not None else ReferralStatus.UNPLACED,
            source_event_id=source_event_id,
            made_at=now,
        )
        if service_code is None:
            return referral, [bounced(referral_id)]
        sent = events.ReferralSent(
            referral_id=referral_id,
            destination=destination,
            service_code=service_code,
            call_id=call_id,
            appointment_id=appointment_id,
            previous_referral_id=referral.previous_referral_id,
        )
        referral.made_event_id = sent.event_id
        referral.response_due_at = deadlines.response_due(now)
        return referral, [sent]

    def respond(
        self,
        response: Response,
        now: datetime,
        *,
        reason_code: ReferralDeclineReason | None = None,
        reason: str | None = None,
    ) -> bool:
        """Apply a receiving service's response; False when it repeats what is recorded (nothing changes)."""
        new = apply_response(self.status, response)
        if new is None:
            return False
        self.status = new
        if response is Response.ACCEPT:
            self.accepted_at = now
        elif response is Response.COMPLETE:
            self.completed_at = now
        else:
            self.declined_at = now
            self.decline_reason = decline_note(reason_code, reason)
        return True

    def reroute(
        self, next_service: str | None, *, cause_id: uuid.UUID, now: datetime, deadlines: Deadlines
    ) -> tuple[Referral | None, list[events.DomainEvent]]:
        """After a decline: on to the next untried service of the kind, and the clinical lead is told.

        With nowhere left, this referral stays visibly open (unplaced) for the clinical lead.
        """
        rerouted: Referral | None = None
        happened: list[events.DomainEvent] = []
        if next_service is None:
            self.status = ReferralStatus.UNPLACED
        else:
            rerouted, happened = self._onward(self.destination, next_service, cause_id, now, deadlines)
        escalation = bounced(self.referral_id)
        self.bounce_escalation_event_id = escalation.event_id
        return rerouted, [*happened, escalation]

    def redirect(
        self,
        destination: Destination,
        next_service: str | None,
        *,
        clinician: str,
        now: datetime,
        deadlines: Deadlines,
    ) -> tuple[Referral, list[events.DomainEvent]]:
        """The clinical lead sends an unplaced referral to another kind of service (closing this one)."""
        if self.status is not ReferralStatus.UNPLACED:
            raise InvalidTransition(
                f"the referral is {self.status.value}; only an unplaced referral is redirected by the "
                "clinical lead"
            )
        if next_service is None:
            raise InvalidTransition(
                f"the directory has no {destination.value} service left to try for PCN {self.pcn_code}; "
                "choose another destination or update the directory"
            )
        # No event caused it: a person did, through the API.
        rerouted, happened = self._onward(destination, next_service, uuid.uuid4(), now, deadlines)
        self.status = ReferralStatus.REDIRECTED
        self.redirected_by = clinician
        return rerouted, happened

    def _onward(
        self,
        destination: Destination,
        service_code: str,
        source_event_id: uuid.UUID,
        now: datetime,
        deadlines: Deadlines,
    ) -> tuple[Referral, list[events.DomainEvent]]:
        rerouted, happened = Referral.make(
            episode=self.episode,
            destination=destination,
            service_code=service_code,
            source_event_id=source_event_id,
            now=now,
            deadlines=deadlines,
            call_id=self.call_id,
            appointment_id=self.appointment_id,
            previous=self,
        )
        self.rerouted_to = rerouted.referral_id
        return rerouted, happened

    def withdraw(self, now: datetime) -> events.ReferralWithdrawn:
        """A re-triage replaced the decision that made this open referral: the receiving service must stop.

        Raises InvalidTransition for a referral no longer open (its chain has moved on or it is closed).
        """
        if not is_open(self.status):
            raise InvalidTransition(f"the referral is {self.status.value}; only an open one is withdrawn")
        withdrawn = events.ReferralWithdrawn(
            referral_id=self.referral_id, reason=ReferralWithdrawnReason.RETRIAGED, call_id=self.call_id
        )
        self.status = ReferralStatus.WITHDRAWN
        self.withdrawn_at = now
        self.withdrawal_event_id = withdrawn.event_id
        return withdrawn

    def due_for_chase(self, now: datetime) -> bool:
        """Made, unanswered past its due date and not chased yet: the watchdog chases it once."""
        return (
            self.status is ReferralStatus.MADE
            and self.chased_at is None
            and self.response_due_at is not None
            and self.response_due_at < now
        )

    @property
    def origin_event_id(self) -> uuid.UUID | None:
        """The referral.made that announced it (none if it was never placed): what later events follow."""
        return self.made_event_id

    def escalate_overdue(self, now: datetime) -> events.Escalated:
        """Chase the unanswered referral through the clinical lead."""
        escalation = events.Escalated(
            target=EscalationTarget.PRACTICE_CLINICAL_LEAD,
            reason=EscalationReason.REFERRAL_UNANSWERED,
            referral_id=self.referral_id,
            due_at=self.response_due_at,
        )
        self.chased_at = now
        self.chase_event_id = escalation.event_id
        return escalation
