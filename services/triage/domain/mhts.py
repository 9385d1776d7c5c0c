"""The MHP's decision under the UK Mental Health Triage Scale, and what the service derives from it.

The triage code is the MHP's clinical decision; these rules only check that its parts agree, apply the
service's scope (18 to 65, not a low-level need, never an MHP appointment for codes A and B) and take the
respond-by deadline from the UK MHTS table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from services.triage.domain.intake import call_day
from shared.contracts.codes import (
    DEFAULT_DISPOSITION,
    RESPONSE_WINDOW,
    Destination,
    Disposition,
    EscalationTarget,
    Modality,
    OutOfScopeReason,
    TriageCode,
)
from shared.contracts.text import age_on
from shared.errors import RuleViolation

MIN_AGE = 18
MAX_AGE = 65
STANDARD_MINUTES = 30
COMPLEX_MINUTES = 60


class ContactOutcome(StrEnum):
    """NHS Data Dictionary MENTAL HEALTH DROP IN CONTACT OUTCOME national codes."""

    CALLER_DISCONNECTED = "01"
    ADVICE_ON_CALL_ONLY = "02"
    SIGNPOSTED_NON_NHS = "03"
    NON_URGENT_REFERRAL_NHS = "04"
    URGENT_REFERRAL_FACE_TO_FACE = "05"
    EMERGENCY_SERVICES_NOTIFIED = "06"
    OTHER = "98"


@dataclass(frozen=True)
class RiskFormulation:
    """The MHP's risk formulation: free text plus structured flags. Kept in triage only, never published."""

    summary: str
    thoughts: bool = False
    plan: bool = False
    means: bool = False
    intent: bool = False
    history: bool = False
    protective_factors: bool = False
    safeguarding_concerns: bool = False


@dataclass(frozen=True)
class DecisionInput:
    triage_code: TriageCode
    clinician: str
    modality: Modality | None = None
    complex_needs: bool = False
    low_level_need: bool = False
    disposition: Disposition | None = None
    risk: RiskFormulation | None = None


class InvalidDecision(RuleViolation):
    """The decision contradicts itself; `field` names the request field to correct."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


# What an MHP may choose for each code; A and B are handled apart (always escalated).
ALLOWED_DISPOSITIONS: Mapping[TriageCode, frozenset[Disposition]] = {
    TriageCode.C: frozenset({Disposition.URGENT_APPOINTMENT}),
    TriageCode.D: frozenset({Disposition.APPOINTMENT, Disposition.URGENT_APPOINTMENT}),
    TriageCode.E: frozenset({Disposition.APPOINTMENT, Disposition.URGENT_APPOINTMENT}),
    TriageCode.F: frozenset({Disposition.REFER, Disposition.SIGNPOST}),
    TriageCode.G: frozenset({Disposition.ADVICE, Disposition.SIGNPOST}),
}
LOW_LEVEL_CODES = frozenset({TriageCode.E, TriageCode.F, TriageCode.G})
ESCALATED_CODES = frozenset({TriageCode.A, TriageCode.B})


@dataclass(frozen=True)
class Outcome:
    disposition: Disposition
    respond_by: datetime | None
    appointment_minutes: int | None
    modality: Modality | None
    out_of_scope_reason: OutOfScopeReason | None
    destination: Destination | None
    escalate_to: EscalationTarget | None
    contact_outcome: ContactOutcome | None = None
    notes: tuple[str, ...] = ()


def check_decision(decision: DecisionInput) -> None:
    """Refuse a decision whose parts contradict each other (A and B are never refused: they escalate)."""
    code = decision.triage_code
    if code in ESCALATED_CODES:
        return
    if decision.disposition is not None and decision.disposition not in ALLOWED_DISPOSITIONS[code]:
        if decision.disposition is Disposition.OUT_OF_SCOPE:
            raise InvalidDecision(
                "disposition",
                "out_of_scope is decided by the service from the patient's age or low_level_need; "
                "omit disposition, or set low_level_need",
            )
        allowed = ", ".join(sorted(d.value for d in ALLOWED_DISPOSITIONS[code]))
        raise InvalidDecision(
            "disposition",
            f"{decision.disposition.value} contradicts triage code {code.value}; "
            f"code {code.value} allows {allowed} (or omit disposition to take the default)",
        )
    if decision.low_level_need and code not in LOW_LEVEL_CODES:
        raise InvalidDecision(
            "low_level_need",
            f"a low-level need contradicts triage code {code.value} (high or moderate risk); "
            "use code E, F or G for Talking Therapies signposting",
        )


def triage_outcome(
    decision: DecisionInput, *, date_of_birth: date, called_at: datetime, decided_at: datetime
) -> Outcome:
    """Apply the scope rules and the UK MHTS table to an MHP's decision (raises InvalidDecision)."""
    check_decision(decision)
    code = decision.triage_code
    window = RESPONSE_WINDOW[code]
    respond_by = decided_at + window if window is not None else None
    # Risk first: A and B go to emergency services or the crisis team whatever the patient's age,
    # and never to an MHP appointment whatever disposition was asked for.
    if code in ESCALATED_CODES:
        return _escalated(code, decision.disposition, respond_by)
    age = age_on(date_of_birth, call_day(called_at))
    if age < MIN_AGE:
        return _out_of_scope(OutOfScopeReason.UNDER_18, Destination.CHILDREN_AND_YOUNG_PEOPLE, respond_by)
    if age > MAX_AGE:
        return _out_of_scope(OutOfScopeReason.OVER_65, Destination.OLDER_ADULTS, respond_by)
    if decision.low_level_need:
        return _out_of_scope(OutOfScopeReason.LOW_LEVEL_NEED, Destination.TALKING_THERAPIES, respond_by)
    disposition = decision.disposition or DEFAULT_DISPOSITION[code]
    if disposition in (Disposition.URGENT_APPOINTMENT, Disposition.APPOINTMENT):
        minutes = COMPLEX_MINUTES if decision.complex_needs else STANDARD_MINUTES
        return Outcome(
            disposition, respond_by, minutes, decision.modality or Modality.TELEPHONE, None, None, None
        )
    if disposition is Disposition.SIGNPOST:
        return Outcome(
            disposition,
            respond_by,
            None,
            None,
            None,
            Destination.TALKING_THERAPIES,
            None,
            ContactOutcome.SIGNPOSTED_NON_NHS,
        )
    if disposition is Disposition.REFER:
        return Outcome(
            disposition, respond_by, None, None, None, None, None, ContactOutcome.NON_URGENT_REFERRAL_NHS
        )
    return Outcome(disposition, respond_by, None, None, None, None, None, ContactOutcome.ADVICE_ON_CALL_ONLY)


def _escalated(code: TriageCode, asked: Disposition | None, respond_by: datetime | None) -> Outcome:
    notes: tuple[str, ...] = ()
    if asked not in (None, Disposition.ESCALATE):
        assert asked is not None
        notes = (
            f"disposition {asked.value} replaced by escalate: "
            f"code {code.value} is escalated at once and never given an MHP appointment",
        )
    emergency = code is TriageCode.A
    return Outcome(
        Disposition.ESCALATE,
        respond_by,
        None,
        None,
        OutOfScopeReason.CRISIS,
        Destination.CRISIS_TEAM,
        EscalationTarget.EMERGENCY_SERVICES if emergency else EscalationTarget.CRISIS_TEAM,
        ContactOutcome.EMERGENCY_SERVICES_NOTIFIED
        if emergency
        else ContactOutcome.URGENT_REFERRAL_FACE_TO_FACE,
        notes,
    )


def _out_of_scope(reason: OutOfScopeReason, destination: Destination, respond_by: datetime | None) -> Outcome:
    # Redirected to another NHS service (CYPMHS, older adults' MH, Talking Therapies): never dropped.
    return Outcome(
        Disposition.OUT_OF_SCOPE,
        respond_by,
        None,
        None,
        reason,
        destination,
        None,
        ContactOutcome.NON_URGENT_REFERRAL_NHS,
    )
