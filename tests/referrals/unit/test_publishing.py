"""Each domain event is published as its contract event, with the episode, cause and producer."""

from __future__ import annotations

import uuid

from services.referrals.application.publishing import Where, envelope
from services.referrals.domain import events
from services.referrals.domain.episode import Episode
from shared.contracts import v1
from shared.contracts.codes import EscalationReason, EscalationTarget
from tests.referrals.unit.fakes import LEAD, PCN, PRACTICE, context
from tests.support.clock import MONDAY_10AM, FakeClock

WHERE = Where(Episode(PCN, PRACTICE, uuid.uuid4()), uuid.uuid4())


def test_an_event_keeps_its_id_and_names_the_episode_and_its_cause() -> None:
    accepted = events.ReferralAccepted(referral_id=uuid.uuid4())
    published = envelope(context(FakeClock()), WHERE, MONDAY_10AM, accepted)
    assert isinstance(published, v1.ReferralAccepted)
    assert published.event_id == accepted.event_id
    assert (published.pcn_code, published.practice_ods) == (PCN, PRACTICE)
    assert published.correlation_id == WHERE.episode.correlation_id
    assert published.causation_id == WHERE.causation_id
    assert (published.producer, published.occurred_at) == ("RMH/referrals", MONDAY_10AM)


def test_an_escalation_to_the_clinical_lead_is_assigned_to_the_practices_named_lead() -> None:
    escalated = events.Escalated(
        target=EscalationTarget.PRACTICE_CLINICAL_LEAD, reason=EscalationReason.BOUNCED_REFERRAL
    )
    published = envelope(context(FakeClock()), WHERE, MONDAY_10AM, escalated)
    assert isinstance(published, v1.CaseEscalated)
    assert published.data.assigned_to == LEAD
    assert published.data.reason is EscalationReason.BOUNCED_REFERRAL
