"""Version 1 of every event in the catalogue (BRIEF.md); each payload carries the least data consumers need.

Only `call.received` carries patient identity; every later event refers to the episode
(`correlation_id`) and to the call, appointment or referral by opaque id. One module per part of the
journey; import the events from here.
"""

from __future__ import annotations

from typing import Any

from shared.contracts.envelope import Envelope
from shared.contracts.v1.appointments import (
    AppointmentAttended,
    AppointmentAttendedData,
    AppointmentBooked,
    AppointmentBookedData,
    AppointmentCancelled,
    AppointmentCancelledData,
    AppointmentDna,
    AppointmentDnaData,
    AppointmentWaitlisted,
    AppointmentWaitlistedData,
    DnaFollowedUp,
    DnaFollowedUpData,
    SessionCancelled,
    SessionCancelledData,
    SessionScheduled,
    SessionScheduledData,
)
from shared.contracts.v1.calls import (
    AppointmentMinutes,
    CallReceived,
    CallReceivedData,
    CallTriaged,
    CallTriagedData,
    CaseEscalated,
    CaseEscalatedData,
)
from shared.contracts.v1.escalations import (
    EscalationAcknowledged,
    EscalationAcknowledgedData,
    EscalationResolved,
    EscalationResolvedData,
)
from shared.contracts.v1.referrals import (
    ReferralAccepted,
    ReferralAcceptedData,
    ReferralCompleted,
    ReferralCompletedData,
    ReferralDeclined,
    ReferralDeclinedData,
    ReferralMade,
    ReferralMadeData,
    ReferralWithdrawn,
    ReferralWithdrawnData,
    ServiceCode,
    SignpostRecorded,
    SignpostRecordedData,
)

ALL_V1: tuple[type[Envelope[Any]], ...] = (
    CallReceived,
    CallTriaged,
    CaseEscalated,
    EscalationAcknowledged,
    EscalationResolved,
    SessionScheduled,
    SessionCancelled,
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentWaitlisted,
    AppointmentAttended,
    AppointmentDna,
    DnaFollowedUp,
    ReferralMade,
    ReferralAccepted,
    ReferralDeclined,
    ReferralCompleted,
    ReferralWithdrawn,
    SignpostRecorded,
)

__all__ = [
    "ALL_V1",
    "AppointmentAttended",
    "AppointmentAttendedData",
    "AppointmentBooked",
    "AppointmentBookedData",
    "AppointmentCancelled",
    "AppointmentCancelledData",
    "AppointmentDna",
    "AppointmentDnaData",
    "AppointmentMinutes",
    "AppointmentWaitlisted",
    "AppointmentWaitlistedData",
    "CallReceived",
    "CallReceivedData",
    "CallTriaged",
    "CallTriagedData",
    "CaseEscalated",
    "CaseEscalatedData",
    "DnaFollowedUp",
    "DnaFollowedUpData",
    "EscalationAcknowledged",
    "EscalationAcknowledgedData",
    "EscalationResolved",
    "EscalationResolvedData",
    "ReferralAccepted",
    "ReferralAcceptedData",
    "ReferralCompleted",
    "ReferralCompletedData",
    "ReferralDeclined",
    "ReferralDeclinedData",
    "ReferralMade",
    "ReferralMadeData",
    "ReferralWithdrawn",
    "ReferralWithdrawnData",
    "ServiceCode",
    "SessionCancelled",
    "SessionCancelledData",
    "SessionScheduled",
    "SessionScheduledData",
    "SignpostRecorded",
    "SignpostRecordedData",
]
