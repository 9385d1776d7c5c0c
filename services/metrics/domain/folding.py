"""Folding each event into the fact it concerns, in any order.

Fields are set by the event that knows them and timestamps keep the earliest or latest as the rule says,
so a redelivered or out-of-order event never corrupts a projection. The live consumer and a rebuild
fold the same archived (JSON) form, so both give the same facts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any, TypeVar

from services.metrics.domain.events import ArchivedEvent, entity_key, event_type_of
from services.metrics.domain.facts import (
    AppointmentFact,
    CallFact,
    EscalationFact,
    Fact,
    ReferralFact,
    SessionFact,
    SignpostFact,
)
from services.metrics.domain.kinds import AppointmentOutcome, EventType

F = TypeVar("F", CallFact, AppointmentFact, SessionFact, ReferralFact, EscalationFact)


def instant(value: Any) -> datetime | None:
    """An archived instant: ISO 8601 with its offset, as the validated contract wrote it."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("archived instants carry their UTC offset")
    return parsed


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _earliest(current: datetime | None, new: datetime) -> datetime:
    return new if current is None or new < current else current


def _existing(fact: Fact | None, cls: type[F], event: ArchivedEvent) -> F:
    if isinstance(fact, cls):
        return fact
    _, key = entity_key(event)
    return cls(key, event.pcn_code, event.practice_ods)


# --- calls ---------------------------------------------------------------------------------------------


def _call_received(fact: Fact | None, e: ArchivedEvent) -> CallFact:
    d = e.data
    return replace(
        _existing(fact, CallFact, e),
        channel=str(d["channel"]),
        caller_urgency=_str(d.get("caller_urgency")),
        age_band=_str(d.get("age_band")),
        received_at=e.occurred_at,
    )


def _is_newer_decision(call: CallFact, sequence: int | None, at: datetime) -> bool:
    """Whether a decision replaces the one the fact holds: the higher `decision_sequence` when both carry
    one (deliveries arrive out of order, and producers' clocks differ), else the later decision."""
    if call.triaged_at is None:
        return True
    if sequence is not None and call.decision_sequence is not None:
        return (sequence, at) >= (call.decision_sequence, call.triaged_at)
    return at >= call.triaged_at


def _call_triaged(fact: Fact | None, e: ArchivedEvent) -> CallFact:
    # The first triage times the response; the newest decision (a re-triage) stands.
    call, d, at = _existing(fact, CallFact, e), e.data, e.occurred_at
    first = _earliest(call.first_triaged_at, at)
    sequence = None if d.get("decision_sequence") is None else int(d["decision_sequence"])
    if not _is_newer_decision(call, sequence, at):
        return replace(call, first_triaged_at=first)
    return replace(
        call,
        first_triaged_at=first,
        triaged_at=at,
        decision_sequence=sequence,
        triage_code=str(d["triage_code"]),
        disposition=str(d["disposition"]),
        respond_by=instant(d.get("respond_by")),
        out_of_scope_reason=_str(d.get("out_of_scope_reason")),
        destination=_str(d.get("destination")),
    )


def _waitlisted(fact: Fact | None, e: ArchivedEvent) -> CallFact:
    call = _existing(fact, CallFact, e)
    return replace(call, waitlisted_at=_earliest(call.waitlisted_at, e.occurred_at))


# --- appointments --------------------------------------------------------------------------------------


def _booked(fact: Fact | None, e: ArchivedEvent) -> AppointmentFact:
    d = e.data
    return replace(
        _existing(fact, AppointmentFact, e),
        call_id=_uuid(d.get("call_id")),
        session_id=_uuid(d.get("session_id")),
        appointment_type=str(d["appointment_type"]),
        booked_by=str(d["booked_by"]),
        booked_at=e.occurred_at,
        starts_at=instant(d["starts_at"]),
        minutes=int(d["minutes"]),
        respond_by=instant(d.get("respond_by")),
    )


def _appointment_cancelled(fact: Fact | None, e: ArchivedEvent) -> AppointmentFact:
    appt = _existing(fact, AppointmentFact, e)
    return replace(appt, cancelled_at=e.occurred_at, cancelled_by=str(e.data["cancelled_by"]))


def _outcome(outcome: AppointmentOutcome) -> Callable[[Fact | None, ArchivedEvent], AppointmentFact]:
    def fold(fact: Fact | None, e: ArchivedEvent) -> AppointmentFact:
        appt = _existing(fact, AppointmentFact, e)
        if appt.outcome_at is not None and e.occurred_at < appt.outcome_at:
            return appt  # an older outcome than the one recorded (a correction arrived first)
        return replace(
            appt,
            outcome=outcome.value,
            attendance=str(e.data["attendance"]),
            outcome_at=e.occurred_at,
            next_step=_str(e.data.get("next_step")),
        )

    return fold


def _followed_up(fact: Fact | None, e: ArchivedEvent) -> AppointmentFact:
    appt = _existing(fact, AppointmentFact, e)
    return replace(appt, dna_follow_up=str(e.data["outcome"]), dna_followed_up_at=e.occurred_at)


# --- sessions, referrals -------------------------------------------------------------------------------


def _session_scheduled(fact: Fact | None, e: ArchivedEvent) -> SessionFact:
    d = e.data
    return replace(
        _existing(fact, SessionFact, e),
        session_date=date.fromisoformat(str(d["session_date"])),
        starts_at=instant(d["starts_at"]),
        ends_at=instant(d["ends_at"]),
    )


def _session_cancelled(fact: Fact | None, e: ArchivedEvent) -> SessionFact:
    session = _existing(fact, SessionFact, e)
    return replace(session, cancelled_at=_earliest(session.cancelled_at, e.occurred_at))


def _referral_made(fact: Fact | None, e: ArchivedEvent) -> ReferralFact:
    d = e.data
    return replace(
        _existing(fact, ReferralFact, e),
        destination=str(d["destination"]),
        made_at=e.occurred_at,
        previous_referral_id=_uuid(d.get("previous_referral_id")),
    )


def _referral_step(field: str) -> Callable[[Fact | None, ArchivedEvent], ReferralFact]:
    """Accepted, declined or completed: the earliest such event dates the step."""

    def fold(fact: Fact | None, e: ArchivedEvent) -> ReferralFact:
        referral = _existing(fact, ReferralFact, e)
        step: dict[str, Any] = {field: _earliest(getattr(referral, field), e.occurred_at)}
        return replace(referral, **step)

    return fold


# --- escalations: raised once, climbing a ladder, acknowledged, resolved ------------------------------


def _escalated(fact: Fact | None, e: ArchivedEvent) -> EscalationFact:
    """A re-escalation up the ladder (same escalation_id, higher rung) is the same escalation: it keeps
    when and why it was first raised, and takes its new owner and acknowledgement deadline."""
    esc, d, at = _existing(fact, EscalationFact, e), e.data, e.occurred_at
    rung = int(d.get("rung") or 0)
    changes: dict[str, Any] = {
        "call_id": esc.call_id or _uuid(d.get("call_id")),
        "due_at": esc.due_at or instant(d.get("due_at")),
    }
    if esc.occurred_at is None or at < esc.occurred_at:
        changes |= {"occurred_at": at, "reason": str(d["reason"])}
    if esc.target is None or rung >= esc.rung:
        changes |= {
            "rung": rung,
            "target": str(d["target"]),
            "acknowledge_by": instant(d.get("acknowledge_by")),
        }
    return replace(esc, **changes)


def _acknowledged(fact: Fact | None, e: ArchivedEvent) -> EscalationFact:
    esc = _existing(fact, EscalationFact, e)
    return replace(esc, acknowledged_at=_earliest(esc.acknowledged_at, e.occurred_at))


def _resolved(fact: Fact | None, e: ArchivedEvent) -> EscalationFact:
    esc = _existing(fact, EscalationFact, e)
    if esc.resolved_at is not None and esc.resolved_at <= e.occurred_at:
        return esc  # the first resolution stands
    return replace(esc, resolved_at=e.occurred_at, outcome=str(e.data["outcome"]))


# --- signposts: one event makes the whole fact ------------------------------------------------------


def _signposted(_fact: Fact | None, e: ArchivedEvent) -> SignpostFact:
    d = e.data
    _, key = entity_key(e)
    return SignpostFact(
        signpost_id=key,
        occurred_at=e.occurred_at,
        destination=str(d["destination"]),
        outcome=str(d["outcome"]),
        out_of_scope_reason=_str(d.get("out_of_scope_reason")),
        pcn_code=e.pcn_code,
        practice_ods=e.practice_ods,
    )


FOLDS: Mapping[EventType, Callable[[Fact | None, ArchivedEvent], Fact]] = {
    EventType.CALL_RECEIVED: _call_received,
    EventType.CALL_TRIAGED: _call_triaged,
    EventType.APPOINTMENT_WAITLISTED: _waitlisted,
    EventType.APPOINTMENT_BOOKED: _booked,
    EventType.APPOINTMENT_CANCELLED: _appointment_cancelled,
    EventType.APPOINTMENT_ATTENDED: _outcome(AppointmentOutcome.ATTENDED),
    EventType.APPOINTMENT_DNA: _outcome(AppointmentOutcome.DNA),
    EventType.DNA_FOLLOWED_UP: _followed_up,
    EventType.SESSION_SCHEDULED: _session_scheduled,
    EventType.SESSION_CANCELLED: _session_cancelled,
    EventType.REFERRAL_MADE: _referral_made,
    EventType.REFERRAL_ACCEPTED: _referral_step("accepted_at"),
    EventType.REFERRAL_DECLINED: _referral_step("declined_at"),
    EventType.REFERRAL_COMPLETED: _referral_step("completed_at"),
    EventType.CASE_ESCALATED: _escalated,
    EventType.ESCALATION_ACKNOWLEDGED: _acknowledged,
    EventType.ESCALATION_RESOLVED: _resolved,
    EventType.REFERRAL_WITHDRAWN: _referral_step("withdrawn_at"),
    EventType.SIGNPOST_RECORDED: _signposted,
}


def apply(fact: Fact | None, event: ArchivedEvent) -> Fact:
    """Fold one event into the fact it concerns (None when no event about it was seen yet)."""
    return FOLDS[event_type_of(event.event_type)](fact, event)
