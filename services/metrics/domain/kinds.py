"""The kinds and statuses metrics' rules pass between functions. Values are the stored strings."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    """Every v1 event type metrics consumes (`shared.contracts.v1.ALL_V1`)."""

    CALL_RECEIVED = "call.received"
    CALL_TRIAGED = "call.triaged"
    CASE_ESCALATED = "case.escalated"
    ESCALATION_ACKNOWLEDGED = "escalation.acknowledged"
    ESCALATION_RESOLVED = "escalation.resolved"
    SESSION_SCHEDULED = "session.scheduled"
    SESSION_CANCELLED = "session.cancelled"
    APPOINTMENT_BOOKED = "appointment.booked"
    APPOINTMENT_CANCELLED = "appointment.cancelled"
    APPOINTMENT_WAITLISTED = "appointment.waitlisted"
    APPOINTMENT_ATTENDED = "appointment.attended"
    APPOINTMENT_DNA = "appointment.dna"
    DNA_FOLLOWED_UP = "dna.followed_up"
    REFERRAL_MADE = "referral.made"
    REFERRAL_ACCEPTED = "referral.accepted"
    REFERRAL_DECLINED = "referral.declined"
    REFERRAL_COMPLETED = "referral.completed"
    REFERRAL_WITHDRAWN = "referral.withdrawn"
    SIGNPOST_RECORDED = "signpost.recorded"


class FactKind(StrEnum):
    """The entity an event is about: one projection table each."""

    CALL = "call"
    APPOINTMENT = "appointment"
    SESSION = "session"
    ESCALATION = "escalation"
    REFERRAL = "referral"
    SIGNPOST = "signpost"


class AppointmentOutcome(StrEnum):
    """The appointment fact's `outcome` column."""

    ATTENDED = "attended"
    DNA = "dna"


class AgeBand(StrEnum):
    """The coarsest age the scope rules need; the archive keeps nothing finer."""

    UNDER_18 = "under_18"
    ADULT = "18_to_65"
    OVER_65 = "over_65"


class AlertKind(StrEnum):
    """What the live feed calls an item: a breach only once its deadline has passed, else at risk."""

    ESCALATION = "escalation"
    DEADLINE_BREACH = "deadline_breach"
    DEADLINE_AT_RISK = "deadline_at_risk"


class DeadlineStatus(StrEnum):
    """A case's UK MHTS response against its deadline, as of an instant (`domain/deadlines.py`)."""

    MET = "met"
    """Seen (its first live appointment started) at or before the deadline."""
    BREACHED = "breached"
    """The deadline has passed and the case was not seen by it: seen late, or still waiting."""
    AT_RISK = "at_risk"
    """Not yet due and not seen, and flagged: waitlisted with no appointment, or booked after the deadline."""
    PENDING = "pending"
    """Not yet due and not seen: booked inside the deadline, or not yet booked and not flagged."""


class OutlierFlag(StrEnum):
    """The rule that marks a PCN unlike the others."""

    SD_HIGH = "2sd_high"
    SD_LOW = "2sd_low"
    IQR_HIGH = "iqr_high"
    IQR_LOW = "iqr_low"
