"""v1 events of onward care: referrals and signposting."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.contracts.codes import (
    Destination,
    OutOfScopeReason,
    ReferralDeclineReason,
    ReferralWithdrawnReason,
    SignpostOutcome,
)
from shared.contracts.envelope import (
    Contract,
    Envelope,
)
from shared.contracts.text import IdentifierFreeText

ServiceCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
"""A receiving service's code in a trust's referral directory, e.g. `tt-north`."""


# --- referrals and signposting -----------------------------------------------------------------


class ReferralMadeData(Contract):
    referral_id: uuid.UUID
    destination: Destination
    call_id: uuid.UUID | None = None
    appointment_id: uuid.UUID | None = None
    previous_referral_id: uuid.UUID | None = Field(
        default=None, description="Set when this referral re-routes a declined one."
    )
    destination_service: ServiceCode | None = Field(
        default=None, description="The directory's code for the service of that kind the referral went to."
    )


class ReferralMade(Envelope[ReferralMadeData]):
    EVENT_TYPE = "referral.made"
    event_type: Literal["referral.made"] = "referral.made"


class ReferralAcceptedData(Contract):
    referral_id: uuid.UUID


class ReferralAccepted(Envelope[ReferralAcceptedData]):
    EVENT_TYPE = "referral.accepted"
    event_type: Literal["referral.accepted"] = "referral.accepted"


class ReferralDeclinedData(Contract):
    referral_id: uuid.UUID
    reason: IdentifierFreeText = Field(
        min_length=1, max_length=200, description="Free text beside the code; no patient identifiers."
    )
    reason_code: ReferralDeclineReason | None = Field(
        default=None, description="Why, as a code (optional only so that 1.0 producers stay valid)."
    )


class ReferralDeclined(Envelope[ReferralDeclinedData]):
    EVENT_TYPE = "referral.declined"
    event_type: Literal["referral.declined"] = "referral.declined"


class ReferralCompletedData(Contract):
    referral_id: uuid.UUID


class ReferralCompleted(Envelope[ReferralCompletedData]):
    EVENT_TYPE = "referral.completed"
    event_type: Literal["referral.completed"] = "referral.completed"


class ReferralWithdrawnData(Contract):
    referral_id: uuid.UUID
    reason: ReferralWithdrawnReason
    call_id: uuid.UUID | None = None


class ReferralWithdrawn(Envelope[ReferralWithdrawnData]):
    """Referrals withdrew a referral it made (e.g. a re-triage replaced the decision that made it); the
    receiving service should close it. Additive in v1."""

    EVENT_TYPE = "referral.withdrawn"
    event_type: Literal["referral.withdrawn"] = "referral.withdrawn"


class SignpostRecordedData(Contract):
    signpost_id: uuid.UUID
    destination: Destination
    outcome: SignpostOutcome
    call_id: uuid.UUID | None = None
    out_of_scope_reason: OutOfScopeReason | None = None


class SignpostRecorded(Envelope[SignpostRecordedData]):
    EVENT_TYPE = "signpost.recorded"
    event_type: Literal["signpost.recorded"] = "signpost.recorded"
