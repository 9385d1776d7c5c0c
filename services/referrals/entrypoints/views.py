"""The referrals API's request and response models: what a client sends and sees, never an ORM row.

Request models forbid extra fields: the acting clinician comes from the bearer token, so a body that
still names a `clinician` is refused (422) rather than silently believed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.referrals.domain.follow_up import DnaFollowUp, FollowUpStatus
from services.referrals.domain.lifecycle import DECLINE_REASON_MAX, ReferralStatus
from services.referrals.domain.referral import Referral
from shared.contracts.codes import AttendanceStatus, Destination, DnaFollowUpOutcome, ReferralDeclineReason
from shared.contracts.text import IdentifierFreeText

DeclineText = Annotated[
    IdentifierFreeText, StringConstraints(strip_whitespace=True, min_length=1, max_length=DECLINE_REASON_MAX)
]


class ReferralView(BaseModel):
    referral_id: uuid.UUID
    correlation_id: uuid.UUID
    practice_ods: str
    destination: Destination
    destination_service: str | None = Field(description="The directory's service code; none when unplaced.")
    status: ReferralStatus = Field(
        description="made, accepted, completed, declined (re-routed), unplaced (declined with nowhere "
        "left to send it, or no service of the kind: open for the practice's clinical lead) or redirected "
        "(the clinical lead sent it elsewhere)."
    )
    call_id: uuid.UUID | None
    appointment_id: uuid.UUID | None
    previous_referral_id: uuid.UUID | None
    rerouted_to: uuid.UUID | None
    made_at: datetime
    response_due_at: datetime | None
    accepted_at: datetime | None
    completed_at: datetime | None
    declined_at: datetime | None
    decline_reason: str | None = Field(description="The decline's code, then any free text beside it.")
    decline_reason_code: ReferralDeclineReason | None
    chased_at: datetime | None = Field(description="When the unanswered referral was escalated.")
    needs_clinical_lead: bool
    redirected_by: str | None = Field(description="The user (from their token) who redirected it.")

    @classmethod
    def of(cls, r: Referral) -> ReferralView:
        return cls(
            referral_id=r.referral_id,
            correlation_id=r.correlation_id,
            practice_ods=r.practice_ods,
            destination=r.destination,
            destination_service=r.service_code,
            status=r.status,
            call_id=r.call_id,
            appointment_id=r.appointment_id,
            previous_referral_id=r.previous_referral_id,
            rerouted_to=r.rerouted_to,
            made_at=r.made_at,
            response_due_at=r.response_due_at,
            accepted_at=r.accepted_at,
            completed_at=r.completed_at,
            declined_at=r.declined_at,
            decline_reason=r.decline_reason,
            decline_reason_code=r.decline_reason_code,
            chased_at=r.chased_at,
            needs_clinical_lead=r.needs_clinical_lead,
            redirected_by=r.redirected_by,
        )


class ReferralDetail(ReferralView):
    bounce_backs: int = Field(description="Declines in this referral's re-routing chain.")
    chain: list[ReferralView] = Field(description="Every referral of the re-routing chain, oldest first.")


class DeclineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason_code: ReferralDeclineReason = Field(description="Why the receiving service declines, as a code.")
    reason: DeclineText | None = Field(
        default=None,
        description="Free text beside the code, up to 200 characters; no patient identifiers (an NHS "
        "number or a date is refused), no control characters.",
    )


class ResponseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RedirectRequest(BaseModel):
    """The clinical lead (or MHP) redirecting is the token's user; a `clinician` field is refused."""

    model_config = ConfigDict(extra="forbid")

    destination: Destination = Field(description="The kind of service to send the referral to instead.")


class FollowUpView(BaseModel):
    follow_up_id: uuid.UUID
    appointment_id: uuid.UUID
    correlation_id: uuid.UUID
    practice_ods: str
    attendance: AttendanceStatus
    opened_at: datetime
    due_at: datetime = Field(description="Contact must be attempted by then, or it is escalated.")
    status: FollowUpStatus
    outcome: DnaFollowUpOutcome | None
    outcome_at: datetime | None
    recorded_by: str | None = Field(description="The user (from their token) who recorded the outcome.")
    signposted_to: Destination | None
    escalated_at: datetime | None

    @classmethod
    def of(cls, f: DnaFollowUp) -> FollowUpView:
        return cls(
            follow_up_id=f.follow_up_id,
            appointment_id=f.appointment_id,
            correlation_id=f.correlation_id,
            practice_ods=f.practice_ods,
            attendance=f.attendance,
            opened_at=f.opened_at,
            due_at=f.due_at,
            status=f.status,
            outcome=f.outcome,
            outcome_at=f.outcome_at,
            recorded_by=f.recorded_by,
            signposted_to=f.signposted_to,
            escalated_at=f.escalated_at,
        )


class FollowUpOutcomeRequest(BaseModel):
    """The MHP or clinical lead recording it is the token's user; a `clinician` field is refused."""

    model_config = ConfigDict(extra="forbid")

    outcome: DnaFollowUpOutcome
    signposted_to: Destination | None = Field(
        default=None, description="Required for contacted_and_signposted, refused otherwise."
    )
