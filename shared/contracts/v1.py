"""Version 1 of every event in the catalogue (BRIEF.md); each payload carries the least data consumers need.

Only `call.received` carries patient identity; every later event refers to the episode
(`correlation_id`) and to the call, appointment or referral by opaque id.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from shared.contracts.codes import (
    AppointmentType,
    AttendanceStatus,
    BookedBy,
    CallerUrgency,
    CancelledBy,
    Channel,
    Destination,
    Disposition,
    DnaFollowUpOutcome,
    EscalationReason,
    EscalationTarget,
    Modality,
    NextStep,
    OutOfScopeReason,
    ReferralDeclineReason,
    SessionCancellationReason,
    SessionPeriod,
    SignpostOutcome,
    TriageCode,
)
from shared.contracts.envelope import (
    Contract,
    Envelope,
    PatientIdentity,
    ShortText,
    StaffId,
    UtcDatetime,
)
from shared.contracts.text import CleanText, IdentifierFreeText, date_of_birth_problem
from shared.working_time import LONDON

AppointmentMinutes = Literal[30, 60]
ServiceCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
"""A receiving service's code in a trust's referral directory, e.g. `tt-north`."""


# --- call.received -----------------------------------------------------------------------------


class CallReceivedData(Contract):
    call_id: uuid.UUID = Field(description="The practice system's id for this request.")
    channel: Channel
    patient: PatientIdentity
    reason: ShortText = Field(description="Why the patient asked for help, as recorded by the practice.")
    caller_urgency: CallerUrgency = CallerUrgency.ROUTINE


class CallReceived(Envelope[CallReceivedData]):
    EVENT_TYPE = "call.received"
    event_type: Literal["call.received"] = "call.received"

    @model_validator(mode="after")
    def _plausible_date_of_birth(self) -> CallReceived:
        # One rule for every consumer: triage refuses the call, and metrics keeps no impossible age.
        problem = date_of_birth_problem(
            self.data.patient.date_of_birth, self.occurred_at.astimezone(LONDON).date()
        )
        if problem:
            raise ValueError(problem)
        return self


# --- call.triaged ------------------------------------------------------------------------------


class CallTriagedData(Contract):
    call_id: uuid.UUID
    triage_code: TriageCode
    disposition: Disposition
    respond_by: UtcDatetime | None = Field(
        description="Deadline for the MHP response under UK MHTS; none for codes F and G."
    )
    modality: Modality | None = None
    appointment_minutes: AppointmentMinutes | None = None
    out_of_scope_reason: OutOfScopeReason | None = None
    destination: Destination | None = Field(
        default=None, description="For refer, signpost and out-of-scope dispositions: where to."
    )
    supersedes: uuid.UUID | None = Field(
        default=None, description="The earlier call.triaged event for this call that this one replaces."
    )
    clinician: StaffId

    @model_validator(mode="after")
    def _appointment_needs_length(self) -> CallTriagedData:
        needs_appointment = self.disposition in (Disposition.URGENT_APPOINTMENT, Disposition.APPOINTMENT)
        if needs_appointment and (self.appointment_minutes is None or self.respond_by is None):
            raise ValueError("an appointment disposition needs appointment_minutes and respond_by")
        if self.disposition is Disposition.OUT_OF_SCOPE and self.out_of_scope_reason is None:
            raise ValueError("an out_of_scope disposition needs out_of_scope_reason")
        return self


class CallTriaged(Envelope[CallTriagedData]):
    EVENT_TYPE = "call.triaged"
    event_type: Literal["call.triaged"] = "call.triaged"


# --- case.escalated ----------------------------------------------------------------------------


class CaseEscalatedData(Contract):
    escalation_id: uuid.UUID
    target: EscalationTarget
    reason: EscalationReason
    call_id: uuid.UUID | None = None
    appointment_id: uuid.UUID | None = None
    referral_id: uuid.UUID | None = None
    due_at: UtcDatetime | None = Field(
        default=None, description="The deadline that was breached or is at risk."
    )
    assigned_to: StaffId | None = Field(
        default=None, description="The named person who must act (e.g. the practice's clinical lead)."
    )


class CaseEscalated(Envelope[CaseEscalatedData]):
    EVENT_TYPE = "case.escalated"
    event_type: Literal["case.escalated"] = "case.escalated"


# --- sessions ----------------------------------------------------------------------------------


class SessionScheduledData(Contract):
    session_id: uuid.UUID
    session_date: date
    period: SessionPeriod
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    modalities: tuple[Modality, ...] = Field(min_length=1)
    room: CleanText | None = Field(default=None, max_length=64)
    clinician: StaffId

    @model_validator(mode="after")
    def _one_session_in_time(self) -> SessionScheduledData:
        # Capacity is counted by session_date: it must be the day the session runs, in London.
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.session_date != self.starts_at.astimezone(LONDON).date():
            raise ValueError("session_date must be the London date of starts_at")
        return self


class SessionScheduled(Envelope[SessionScheduledData]):
    EVENT_TYPE = "session.scheduled"
    event_type: Literal["session.scheduled"] = "session.scheduled"


class SessionCancelledData(Contract):
    session_id: uuid.UUID
    reason_code: SessionCancellationReason | None = Field(
        default=None, description="Why, as a code (optional only so that 1.0 producers stay valid)."
    )
    reason: IdentifierFreeText | None = Field(
        default=None, max_length=200, description="Free text beside the code; no patient identifiers."
    )


class SessionCancelled(Envelope[SessionCancelledData]):
    EVENT_TYPE = "session.cancelled"
    event_type: Literal["session.cancelled"] = "session.cancelled"


# --- appointments ------------------------------------------------------------------------------


class AppointmentBookedData(Contract):
    appointment_id: uuid.UUID
    call_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    starts_at: UtcDatetime
    minutes: int = Field(gt=0, le=240)
    modality: Modality
    appointment_type: AppointmentType
    booked_by: BookedBy
    respond_by: UtcDatetime | None = None


class AppointmentBooked(Envelope[AppointmentBookedData]):
    EVENT_TYPE = "appointment.booked"
    event_type: Literal["appointment.booked"] = "appointment.booked"


class AppointmentCancelledData(Contract):
    appointment_id: uuid.UUID
    cancelled_by: CancelledBy
    late: bool = False


class AppointmentCancelled(Envelope[AppointmentCancelledData]):
    EVENT_TYPE = "appointment.cancelled"
    event_type: Literal["appointment.cancelled"] = "appointment.cancelled"


class AppointmentWaitlistedData(Contract):
    call_id: uuid.UUID
    respond_by: UtcDatetime
    modality: Modality | None = None
    minutes: int = Field(gt=0, le=240)


class AppointmentWaitlisted(Envelope[AppointmentWaitlistedData]):
    EVENT_TYPE = "appointment.waitlisted"
    event_type: Literal["appointment.waitlisted"] = "appointment.waitlisted"


class AppointmentAttendedData(Contract):
    appointment_id: uuid.UUID
    attendance: Literal[AttendanceStatus.ATTENDED, AttendanceStatus.ARRIVED_LATE_SEEN]
    next_step: NextStep
    referral_destination: Destination | None = None
    appointment_starts_at: UtcDatetime | None = Field(
        default=None, description="When the appointment started; the outcome cannot precede it."
    )


def _outcome_not_before_start(event: AppointmentAttended | AppointmentDna) -> None:
    starts_at = event.data.appointment_starts_at
    if starts_at is not None and event.occurred_at < starts_at:
        raise ValueError("an attendance outcome cannot be recorded before the appointment starts")


class AppointmentAttended(Envelope[AppointmentAttendedData]):
    EVENT_TYPE = "appointment.attended"
    event_type: Literal["appointment.attended"] = "appointment.attended"

    @model_validator(mode="after")
    def _not_before_start(self) -> AppointmentAttended:
        _outcome_not_before_start(self)
        return self


class AppointmentDnaData(Contract):
    appointment_id: uuid.UUID
    attendance: Literal[AttendanceStatus.DID_NOT_ATTEND, AttendanceStatus.ARRIVED_LATE_NOT_SEEN]
    appointment_starts_at: UtcDatetime | None = Field(
        default=None, description="When the appointment started; a DNA cannot be recorded before it."
    )


class AppointmentDna(Envelope[AppointmentDnaData]):
    EVENT_TYPE = "appointment.dna"
    event_type: Literal["appointment.dna"] = "appointment.dna"

    @model_validator(mode="after")
    def _not_before_start(self) -> AppointmentDna:
        _outcome_not_before_start(self)
        return self


class DnaFollowedUpData(Contract):
    appointment_id: uuid.UUID
    outcome: DnaFollowUpOutcome


class DnaFollowedUp(Envelope[DnaFollowedUpData]):
    EVENT_TYPE = "dna.followed_up"
    event_type: Literal["dna.followed_up"] = "dna.followed_up"


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


class SignpostRecordedData(Contract):
    signpost_id: uuid.UUID
    destination: Destination
    outcome: SignpostOutcome
    call_id: uuid.UUID | None = None
    out_of_scope_reason: OutOfScopeReason | None = None


class SignpostRecorded(Envelope[SignpostRecordedData]):
    EVENT_TYPE = "signpost.recorded"
    event_type: Literal["signpost.recorded"] = "signpost.recorded"


ALL_V1: tuple[type[Envelope[Any]], ...] = (
    CallReceived,
    CallTriaged,
    CaseEscalated,
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
    SignpostRecorded,
)
