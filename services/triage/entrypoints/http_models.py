"""Triage's HTTP request and response models (the OpenAPI document's schemas)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.contracts.codes import Disposition, Modality, TriageCode
from shared.contracts.text import CleanText


class WorklistEntry(BaseModel):
    call_id: uuid.UUID
    correlation_id: uuid.UUID
    practice_ods: str
    channel: str
    caller_urgency: str
    red_flags: bool
    priority: int = Field(description="0 = red flags in the reason, 1 = caller says urgent, 2 = the rest.")
    received_at: datetime
    waiting_minutes: int
    callback_due_at: datetime = Field(description="The callback target, in working time.")
    deadline_breached: bool
    escalated_to_duty_gp_at: datetime | None
    out_of_hours_escalated_at: datetime | None = Field(
        default=None,
        description="Red flags out of working hours: escalated at once to the out-of-hours route.",
    )
    out_of_hours_escalated_to: str | None = Field(default=None, description="crisis_team or duty_gp.")


class RiskFormulationIn(BaseModel):
    """The MHP's risk formulation. Stored by triage only; never sent in an event."""

    model_config = ConfigDict(extra="forbid")

    # Clinical free text kept beside the patient's identity in triage, never published: it may name
    # dates (of an overdose, say), so it is clean text but not identifier-free.
    summary: Annotated[CleanText, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)] = (
        Field(description="Free-text formulation; no control or bidirectional-override characters.")
    )
    thoughts: bool = Field(default=False, description="Thoughts of suicide or self-harm.")
    plan: bool = False
    means: bool = Field(default=False, description="Access to means.")
    intent: bool = False
    history: bool = Field(default=False, description="History of self-harm or attempts.")
    protective_factors: bool = Field(default=False, description="Protective factors present.")
    safeguarding_concerns: bool = False


class DecisionRequest(BaseModel):
    """The MHP's decision. Who decided is the caller's token, never the body: a `clinician` is refused."""

    model_config = ConfigDict(extra="forbid")

    triage_code: TriageCode = Field(description="UK Mental Health Triage Scale code, A to G.")
    modality: Modality | None = None
    complex_needs: bool = Field(default=False, description="A complex patient gets a 60-minute appointment.")
    low_level_need: bool = Field(
        default=False, description="Redirect to Talking Therapies self-referral (codes E, F, G only)."
    )
    disposition: Disposition | None = Field(
        default=None,
        description=(
            "Defaults from the triage code. A disposition contradicting the code is refused (422), except "
            "for codes A and B, which are always escalated and never given an MHP appointment."
        ),
    )
    risk: RiskFormulationIn | None = Field(default=None, description="Risk formulation (kept in triage).")


class DecisionResponse(BaseModel):
    decision_id: uuid.UUID
    call_id: uuid.UUID
    event_id: uuid.UUID
    triage_code: TriageCode
    disposition: Disposition
    respond_by: datetime | None
    appointment_minutes: int | None
    out_of_scope_reason: str | None
    destination: str | None = None
    contact_outcome: str | None = Field(
        default=None, description="NHS Data Dictionary MENTAL HEALTH DROP IN CONTACT OUTCOME code."
    )
    supersedes: uuid.UUID | None = None
    escalation_event_id: uuid.UUID | None = None
    decision_sequence: int = Field(description="1 for the call's first decision, one more per re-triage.")
    notes: list[str] = Field(default=[], description="What the service changed in the request, and why.")


class RiskFormulationOut(BaseModel):
    summary: str
    thoughts: bool | None
    plan: bool | None
    means: bool | None
    intent: bool | None
    history: bool | None
    protective_factors: bool | None
    safeguarding_concerns: bool | None


class DecisionView(BaseModel):
    decision_id: uuid.UUID
    event_id: uuid.UUID
    triage_code: TriageCode
    disposition: Disposition
    respond_by: datetime | None
    appointment_minutes: int | None
    modality: str | None
    complex_needs: bool
    out_of_scope_reason: str | None
    destination: str | None
    contact_outcome: str | None
    clinician: str = Field(description="The deciding MHP: the user id of the token that recorded it.")
    decided_at: datetime
    supersedes: uuid.UUID | None
    superseded_by: uuid.UUID | None
    current: bool
    escalation_event_id: uuid.UUID | None
    decision_sequence: int
    risk: RiskFormulationOut | None


class PatientView(BaseModel):
    nhs_number: str
    date_of_birth: date


class CallView(BaseModel):
    call_id: uuid.UUID
    correlation_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    channel: str
    caller_urgency: str
    reason: str
    patient: PatientView = Field(description="Shown to the MHP so they can call the patient back.")
    red_flags: bool
    received_at: datetime
    callback_due_at: datetime
    status: str
    escalated_to_duty_gp_at: datetime | None
    out_of_hours_escalated_at: datetime | None = None
    out_of_hours_escalated_to: str | None = None
    decisions: list[DecisionView] = Field(description="Every decision, oldest first; superseded ones stay.")
