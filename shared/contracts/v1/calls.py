"""v1 events of a call: received from the practice, triaged by the MHP, escalated."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field, model_validator

from shared.contracts.codes import (
    CallerUrgency,
    Channel,
    Destination,
    Disposition,
    EscalationReason,
    EscalationTarget,
    Modality,
    OutOfScopeReason,
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
from shared.contracts.text import date_of_birth_problem
from shared.working_time import LONDON

AppointmentMinutes = Literal[30, 60]


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
    decision_sequence: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description=(
            "1 for the first decision on a call, one more for each re-triage. Deliveries can arrive out of"
            " order: consumers apply only the highest sequence they have seen for the call (absent: 1.0"
            " producers, ordered by occurred_at)."
        ),
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
    rung: int = Field(
        default=0,
        ge=0,
        le=20,
        description=(
            "The escalation's place on its ladder: 0 when first raised; each re-escalation of the same"
            " escalation_id to the next owner, because nobody acknowledged it in time, adds one."
        ),
    )
    acknowledge_by: UtcDatetime | None = Field(
        default=None, description="When the owner must have acknowledged it before it climbs the ladder."
    )


class CaseEscalated(Envelope[CaseEscalatedData]):
    EVENT_TYPE = "case.escalated"
    event_type: Literal["case.escalated"] = "case.escalated"
