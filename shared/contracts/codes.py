"""Coded values used in event payloads: the UK MHTS scale, NHS Data Dictionary codes and service enums.

Values are lower-case snake_case strings on the wire so that adding a value is an additive change.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum


class Channel(StrEnum):
    """How the request for help reached the practice."""

    TELEPHONE = "telephone"
    E_CONSULTATION = "e_consultation"
    WALK_IN = "walk_in"
    GP_TASK = "gp_task"
    DIRECT_BOOKING = "direct_booking"


class CallerUrgency(StrEnum):
    """Urgency as stated by the caller or the practice receptionist (not a clinical judgement)."""

    ROUTINE = "routine"
    SOON = "soon"
    URGENT = "urgent"


class TriageCode(StrEnum):
    """UK Mental Health Triage Scale (Sands, Elsom & Colgate, 2015)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"
    G = "G"


class Disposition(StrEnum):
    """What the MHP pathway does with a triaged call."""

    ESCALATE = "escalate"
    URGENT_APPOINTMENT = "urgent_appointment"
    APPOINTMENT = "appointment"
    REFER = "refer"
    SIGNPOST = "signpost"
    ADVICE = "advice"
    OUT_OF_SCOPE = "out_of_scope"


APPOINTMENT_DISPOSITIONS = frozenset({Disposition.URGENT_APPOINTMENT, Disposition.APPOINTMENT})


class OutOfScopeReason(StrEnum):
    UNDER_18 = "under_18"
    OVER_65 = "over_65"
    LOW_LEVEL_NEED = "low_level_need"
    CRISIS = "crisis"


class Modality(StrEnum):
    TELEPHONE = "telephone"
    VIDEO = "video"
    FACE_TO_FACE = "face_to_face"


class SessionPeriod(StrEnum):
    AM = "am"
    PM = "pm"


class AppointmentType(StrEnum):
    INITIAL_ASSESSMENT = "initial_assessment"
    SECOND_ASSESSMENT = "second_assessment"
    FOLLOW_UP = "follow_up"
    REVIEW = "review"
    SMI_REVIEW = "smi_review"
    PRESCRIPTION = "prescription"


class BookedBy(StrEnum):
    MHP_SERVICE = "mhp_service"
    PRACTICE_DIRECT = "practice_direct"


class CancelledBy(StrEnum):
    PATIENT = "patient"
    PROVIDER = "provider"


class AttendanceStatus(StrEnum):
    """NHS Data Dictionary ATTENDED OR DID NOT ATTEND, as names (the code is in the docstring)."""

    ATTENDED = "attended"  # 5: attended on time or, if late, before the relevant professional was ready
    ARRIVED_LATE_SEEN = "arrived_late_seen"  # 6: arrived late but was seen
    ARRIVED_LATE_NOT_SEEN = "arrived_late_not_seen"  # 7: arrived late and could not be seen
    CANCELLED_BY_PATIENT = "cancelled_by_patient"  # 2
    CANCELLED_BY_PROVIDER = "cancelled_by_provider"  # 4
    DID_NOT_ATTEND = "did_not_attend"  # 3


class SessionCancellationReason(StrEnum):
    """Why a rota session was cancelled; free text may only stand beside the code."""

    CLINICIAN_SICKNESS = "clinician_sickness"
    CLINICIAN_LEAVE = "clinician_leave"
    TRAINING = "training"
    ROOM_UNAVAILABLE = "room_unavailable"
    PRACTICE_CLOSURE = "practice_closure"
    SERVICE_PRESSURES = "service_pressures"
    ROTA_ERROR = "rota_error"
    OTHER = "other"


class NextStep(StrEnum):
    FOLLOW_UP = "follow_up"
    PRESCRIPTION = "prescription"
    REFERRAL = "referral"
    DISCHARGE = "discharge"


class EscalationTarget(StrEnum):
    EMERGENCY_SERVICES = "emergency_services_999"
    CRISIS_TEAM = "crisis_team"
    DUTY_GP = "duty_gp"
    PRACTICE_CLINICAL_LEAD = "practice_clinical_lead"
    GP = "gp"
    TRUST_DUTY_MANAGER = "trust_duty_manager"
    """The trust's central duty manager: the last rung of every escalation ladder."""
    PLATFORM_OPERATOR = "platform_operator"
    """The trust's platform operator (ops on call): a clinical event the platform could not apply."""


class EscalationReason(StrEnum):
    RISK = "risk"
    TRIAGE_DEADLINE_BREACH = "triage_deadline_breach"
    APPOINTMENT_DEADLINE_AT_RISK = "appointment_deadline_at_risk"
    BOUNCED_REFERRAL = "bounced_referral"
    REFERRAL_UNANSWERED = "referral_unanswered"
    REPEATED_DNA = "repeated_dna"
    FOLLOW_UP_OVERDUE = "follow_up_overdue"
    SAFEGUARDING = "safeguarding"
    APPOINTMENT_DEADLINE_BREACH = "appointment_deadline_breach"
    """A case waiting for an appointment is past its UK MHTS deadline, still unbooked."""
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    """The provider cancelled an appointment and the case could not be rebooked inside its deadline."""
    OUTCOME_MISSING = "attendance_outcome_missing"
    """An appointment's time passed, and the attendance-review window after it, with no outcome."""
    RED_FLAG_OUT_OF_HOURS = "red_flag_out_of_hours"
    """A call with red flags arrived outside working hours: the out-of-hours route must act now."""
    UNACKNOWLEDGED = "escalation_unacknowledged"
    """Nobody acknowledged an escalation by its deadline: it climbs to the next rung of the ladder."""
    DEAD_LETTER = "dead_letter"
    """A clinical event could not be applied and waits in a dead-letter queue for the operator."""
    OUTCOME_FOR_CANCELLED_APPOINTMENT = "outcome_for_cancelled_appointment"
    """A practice reported the patient seen at an appointment booking holds as cancelled: reconcile it."""


class EscalationOutcome(StrEnum):
    """How an escalation's owner closed it (`escalation.resolved`)."""

    EMERGENCY_SERVICES_CALLED = "emergency_services_called"
    CRISIS_TEAM_ENGAGED = "crisis_team_engaged"
    PATIENT_CONTACTED = "patient_contacted"
    APPOINTMENT_BOOKED = "appointment_booked"
    REFERRED_ON = "referred_on"
    HANDED_TO_GP = "handed_to_gp"
    SAFEGUARDING_RAISED = "safeguarding_raised"
    NOT_CONTACTABLE_SAFETY_NETTED = "not_contactable_safety_netted"
    NO_FURTHER_ACTION = "no_further_action"
    MESSAGE_REPLAYED = "message_replayed"
    """For the platform operator: the dead-lettered event was fixed and replayed."""
    MESSAGE_DISCARDED = "message_discarded"
    """For the platform operator: the dead letter was a duplicate or test, and discarded (audited)."""


class ReferralWithdrawnReason(StrEnum):
    """Why referrals withdrew a referral it had made."""

    RETRIAGED = "retriaged"
    """A later triage decision for the call replaced the one that made the referral."""


class Destination(StrEnum):
    """Kinds of onward care the MHP pathway refers or signposts to."""

    TALKING_THERAPIES = "talking_therapies"
    COMMUNITY_MENTAL_HEALTH_TEAM = "community_mental_health_team"
    SOCIAL_PRESCRIBING = "social_prescribing_link_worker"
    CLINICAL_PHARMACIST = "clinical_pharmacist"
    DUTY_GP = "duty_gp"
    CRISIS_TEAM = "crisis_team"
    VOLUNTARY_SECTOR = "voluntary_sector"
    CHILDREN_AND_YOUNG_PEOPLE = "children_and_young_people_mh"
    OLDER_ADULTS = "older_adults_mh"


class ReferralDeclineReason(StrEnum):
    """Why a receiving service declined a referral (after the e-RS rejection reasons)."""

    NOT_APPROPRIATE_FOR_SERVICE = "not_appropriate_for_service"
    OUTSIDE_CATCHMENT = "outside_catchment"
    NOT_ELIGIBLE = "not_eligible"
    INSUFFICIENT_INFORMATION = "insufficient_information"
    ALREADY_UNDER_CARE = "already_under_care"
    PATIENT_DECLINED = "patient_declined"
    SERVICE_UNAVAILABLE = "service_unavailable"
    OTHER = "other"


class DnaFollowUpOutcome(StrEnum):
    REBOOKED = "rebooked"
    CONTACTED_AND_SIGNPOSTED = "contacted_and_signposted"
    DISCHARGED_TO_GP = "discharged_to_gp"
    SAFEGUARDING_ESCALATION = "safeguarding_escalation"


class SignpostOutcome(StrEnum):
    INFORMATION_GIVEN = "information_given"
    SELF_REFERRAL_ADVISED = "self_referral_advised"
    REDIRECTED = "redirected"


# UK MHTS response times; None means "no deadline for an MHP response" (F and G).
RESPONSE_WINDOW: dict[TriageCode, timedelta | None] = {
    TriageCode.A: timedelta(0),
    TriageCode.B: timedelta(hours=4),
    TriageCode.C: timedelta(hours=24),
    TriageCode.D: timedelta(hours=72),
    TriageCode.E: timedelta(weeks=4),
    TriageCode.F: None,
    TriageCode.G: None,
}

DEFAULT_DISPOSITION: dict[TriageCode, Disposition] = {
    TriageCode.A: Disposition.ESCALATE,
    TriageCode.B: Disposition.ESCALATE,
    TriageCode.C: Disposition.URGENT_APPOINTMENT,
    TriageCode.D: Disposition.APPOINTMENT,
    TriageCode.E: Disposition.APPOINTMENT,
    TriageCode.F: Disposition.REFER,
    TriageCode.G: Disposition.ADVICE,
}
