"""What the metrics archive may keep of an event: an allow-list of coded fields per event type, and an
age band in place of a date of birth. Patient identity and free text never reach the store."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from services.metrics.domain.calendar import local_date
from services.metrics.domain.kinds import AgeBand, EventType

# Allow-lists, not deny-lists: a field someone adds to a contract later stays out of the metrics store
# until it is reviewed here. Patient identity and every free-text field are absent on purpose.
ARCHIVED_FIELDS: dict[str, frozenset[str]] = {
    EventType.CALL_RECEIVED: frozenset({"call_id", "channel", "caller_urgency"}),
    EventType.CALL_TRIAGED: frozenset(
        {
            "call_id",
            "triage_code",
            "disposition",
            "respond_by",
            "modality",
            "appointment_minutes",
            "out_of_scope_reason",
            "destination",
            "supersedes",
            "decision_sequence",
        }
    ),
    # `assigned_to`, `acknowledged_by` and `resolved_by` name staff and the resolution's `note` is free text:
    # none is a coded field, so none is kept.
    EventType.CASE_ESCALATED: frozenset(
        {
            "escalation_id",
            "target",
            "reason",
            "call_id",
            "appointment_id",
            "referral_id",
            "due_at",
            "rung",
            "acknowledge_by",
        }
    ),
    EventType.ESCALATION_ACKNOWLEDGED: frozenset({"escalation_id", "target", "rung"}),
    EventType.ESCALATION_RESOLVED: frozenset({"escalation_id", "outcome"}),
    EventType.SESSION_SCHEDULED: frozenset(
        {"session_id", "session_date", "period", "starts_at", "ends_at", "modalities"}
    ),
    EventType.SESSION_CANCELLED: frozenset({"session_id"}),
    EventType.APPOINTMENT_BOOKED: frozenset(
        {
            "appointment_id",
            "call_id",
            "session_id",
            "starts_at",
            "minutes",
            "modality",
            "appointment_type",
            "booked_by",
            "respond_by",
        }
    ),
    EventType.APPOINTMENT_CANCELLED: frozenset({"appointment_id", "cancelled_by", "late"}),
    EventType.APPOINTMENT_WAITLISTED: frozenset({"call_id", "respond_by", "modality", "minutes"}),
    EventType.APPOINTMENT_ATTENDED: frozenset(
        {"appointment_id", "attendance", "next_step", "referral_destination"}
    ),
    EventType.APPOINTMENT_DNA: frozenset({"appointment_id", "attendance"}),
    EventType.DNA_FOLLOWED_UP: frozenset({"appointment_id", "outcome"}),
    EventType.REFERRAL_MADE: frozenset(
        {"referral_id", "destination", "call_id", "appointment_id", "previous_referral_id"}
    ),
    EventType.REFERRAL_ACCEPTED: frozenset({"referral_id"}),
    EventType.REFERRAL_DECLINED: frozenset({"referral_id"}),
    EventType.REFERRAL_COMPLETED: frozenset({"referral_id"}),
    EventType.REFERRAL_WITHDRAWN: frozenset({"referral_id", "reason", "call_id"}),
    EventType.SIGNPOST_RECORDED: frozenset(
        {"signpost_id", "destination", "outcome", "call_id", "out_of_scope_reason"}
    ),
}


def age_in_years(date_of_birth: date, on: date) -> int | None:
    """Whole years of age on `on`; None when the birth is after `on` (no age can be given)."""
    years = on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    return years if years >= 0 else None


def age_band(date_of_birth: date, on: date) -> AgeBand | None:
    """The coarsest age the service's scope rules need: under 18, 18 to 65, over 65."""
    years = age_in_years(date_of_birth, on)
    if years is None:
        return None
    if years < 18:
        return AgeBand.UNDER_18
    return AgeBand.OVER_65 if years > 65 else AgeBand.ADULT


def redact(
    event_type: str,
    data: Mapping[str, Any],
    occurred_at: datetime,
    *,
    date_of_birth: date | None = None,
) -> dict[str, Any]:
    """The payload as the metrics archive keeps it: coded fields only; a call keeps an age band at most.

    `date_of_birth` is the validated contract's date (never read back out of `data`).
    """
    keep = ARCHIVED_FIELDS.get(event_type, frozenset())
    redacted = {k: v for k, v in data.items() if k in keep}
    if event_type == EventType.CALL_RECEIVED and date_of_birth is not None:
        band = age_band(date_of_birth, local_date(occurred_at))
        if band is not None:
            redacted["age_band"] = band.value
    return redacted
