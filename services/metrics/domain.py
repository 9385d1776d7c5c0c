"""Pure metrics rules: redacting events for the archive, folding them into per-entity facts, and the
monthly return computed from those facts. No I/O here; months are Europe/London calendar months."""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.contracts.codes import (
    AppointmentType,
    Channel,
    DnaFollowUpOutcome,
    EscalationReason,
    OutOfScopeReason,
    SignpostOutcome,
    TriageCode,
)

LONDON = ZoneInfo("Europe/London")
ADMIN_SLOT = timedelta(minutes=30)
"""Every MHP session ends with a 30-minute admin slot that is not bookable."""

GP_RELEASING_CHANNELS = frozenset(
    {Channel.TELEPHONE.value, Channel.E_CONSULTATION.value, Channel.WALK_IN.value}
)
"""Patient-initiated requests for an urgent appointment: without the MHP these go to the duty GP.

A GP task is excluded (a GP was already involved) and so is a direct booking (no urgent request was made).
"""

APPOINTMENT_CODES = (TriageCode.C.value, TriageCode.D.value, TriageCode.E.value)

# --- redaction ---------------------------------------------------------------------------------------

# Allow-lists, not deny-lists: a field someone adds to a contract later stays out of the metrics store
# until it is reviewed here. Patient identity and every free-text field are absent on purpose.
ARCHIVED_FIELDS: dict[str, frozenset[str]] = {
    "call.received": frozenset({"call_id", "channel", "caller_urgency"}),
    "call.triaged": frozenset(
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
        }
    ),
    "case.escalated": frozenset(
        {"escalation_id", "target", "reason", "call_id", "appointment_id", "referral_id", "due_at"}
    ),
    "session.scheduled": frozenset(
        {"session_id", "session_date", "period", "starts_at", "ends_at", "modalities"}
    ),
    "session.cancelled": frozenset({"session_id"}),
    "appointment.booked": frozenset(
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
    "appointment.cancelled": frozenset({"appointment_id", "cancelled_by", "late"}),
    "appointment.waitlisted": frozenset({"call_id", "respond_by", "modality", "minutes"}),
    "appointment.attended": frozenset({"appointment_id", "attendance", "next_step", "referral_destination"}),
    "appointment.dna": frozenset({"appointment_id", "attendance"}),
    "dna.followed_up": frozenset({"appointment_id", "outcome"}),
    "referral.made": frozenset(
        {"referral_id", "destination", "call_id", "appointment_id", "previous_referral_id"}
    ),
    "referral.accepted": frozenset({"referral_id"}),
    "referral.declined": frozenset({"referral_id"}),
    "referral.completed": frozenset({"referral_id"}),
    "signpost.recorded": frozenset(
        {"signpost_id", "destination", "outcome", "call_id", "out_of_scope_reason"}
    ),
}


def age_band(date_of_birth: date, on: date) -> str:
    """The coarsest age the service's scope rules need: under 18, 18 to 65, over 65."""
    years = on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    if years < 18:
        return "under_18"
    return "over_65" if years > 65 else "18_to_65"


def redact(event_type: str, data: Mapping[str, Any], occurred_at: datetime) -> dict[str, Any]:
    """The payload as the metrics archive keeps it: coded fields only; a call keeps an age band at most."""
    keep = ARCHIVED_FIELDS.get(event_type, frozenset())
    redacted = {k: v for k, v in data.items() if k in keep}
    if event_type == "call.received":
        patient = data.get("patient") or {}
        dob = patient.get("date_of_birth")
        if dob is not None:
            dob_date = dob if isinstance(dob, date) else date.fromisoformat(str(dob))
            redacted["age_band"] = age_band(dob_date, local_date(occurred_at))
    return redacted


# --- archived events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchivedEvent:
    """One consumed event as the metrics service keeps it (already redacted)."""

    event_id: uuid.UUID
    event_type: str
    occurred_at: datetime
    correlation_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    data: Mapping[str, Any]


def local_date(instant: datetime) -> date:
    return instant.astimezone(LONDON).date()


def month_of(instant: datetime | None) -> str | None:
    if instant is None:
        return None
    local = instant.astimezone(LONDON)
    return f"{local.year:04d}-{local.month:02d}"


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a Europe/London calendar month, as UTC instants (handles the clock changes)."""
    year, mon = (int(p) for p in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=LONDON)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=LONDON)
    return start.astimezone(UTC), end.astimezone(UTC)


def previous_months(month: str, count: int) -> list[str]:
    """`count` months ending with `month`, oldest first."""
    year, mon = (int(p) for p in month.split("-"))
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
    return out[::-1]


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


# --- facts: one row per call, appointment, session, escalation, referral, signpost ------------------
# Each fact is folded from its events in any order (fields are set by the event that knows them), so a
# redelivered or out-of-order event never corrupts a projection.


@dataclass
class CallFact:
    call_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    channel: str | None = None
    caller_urgency: str | None = None
    age_band: str | None = None
    received_at: datetime | None = None
    first_triaged_at: datetime | None = None
    triaged_at: datetime | None = None
    triage_code: str | None = None
    disposition: str | None = None
    respond_by: datetime | None = None
    out_of_scope_reason: str | None = None
    destination: str | None = None
    waitlisted_at: datetime | None = None


@dataclass
class AppointmentFact:
    appointment_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    call_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    appointment_type: str | None = None
    booked_by: str | None = None
    booked_at: datetime | None = None
    starts_at: datetime | None = None
    minutes: int | None = None
    respond_by: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    outcome: str | None = None  # "attended" or "dna"
    attendance: str | None = None
    outcome_at: datetime | None = None
    next_step: str | None = None
    dna_follow_up: str | None = None
    dna_followed_up_at: datetime | None = None


@dataclass
class SessionFact:
    session_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    session_date: date | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    cancelled_at: datetime | None = None


@dataclass
class EscalationFact:
    escalation_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    occurred_at: datetime
    reason: str
    target: str
    call_id: uuid.UUID | None = None
    due_at: datetime | None = None


@dataclass
class ReferralFact:
    referral_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    destination: str | None = None
    made_at: datetime | None = None
    previous_referral_id: uuid.UUID | None = None
    accepted_at: datetime | None = None
    declined_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass
class SignpostFact:
    signpost_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    occurred_at: datetime
    destination: str
    outcome: str
    out_of_scope_reason: str | None = None


Fact = CallFact | AppointmentFact | SessionFact | EscalationFact | ReferralFact | SignpostFact

ENTITY_OF: dict[str, tuple[str, str]] = {
    "call.received": ("call", "call_id"),
    "call.triaged": ("call", "call_id"),
    "appointment.waitlisted": ("call", "call_id"),
    "case.escalated": ("escalation", "escalation_id"),
    "session.scheduled": ("session", "session_id"),
    "session.cancelled": ("session", "session_id"),
    "appointment.booked": ("appointment", "appointment_id"),
    "appointment.cancelled": ("appointment", "appointment_id"),
    "appointment.attended": ("appointment", "appointment_id"),
    "appointment.dna": ("appointment", "appointment_id"),
    "dna.followed_up": ("appointment", "appointment_id"),
    "referral.made": ("referral", "referral_id"),
    "referral.accepted": ("referral", "referral_id"),
    "referral.declined": ("referral", "referral_id"),
    "referral.completed": ("referral", "referral_id"),
    "signpost.recorded": ("signpost", "signpost_id"),
}
"""Every event touches exactly one fact: (kind, the payload field holding its key)."""


def entity_key(event: ArchivedEvent) -> tuple[str, uuid.UUID]:
    kind, key_field = ENTITY_OF[event.event_type]
    key = _uuid(event.data[key_field])
    assert key is not None
    return kind, key


def _earliest(current: datetime | None, new: datetime) -> datetime:
    return new if current is None or new < current else current


def apply(fact: Fact | None, event: ArchivedEvent) -> Fact:
    """Fold one event into the fact it concerns (None when no event about it was seen yet)."""
    kind, key = entity_key(event)
    d, at = event.data, event.occurred_at
    pcn, ods = event.pcn_code, event.practice_ods
    if kind == "call":
        call = fact if isinstance(fact, CallFact) else CallFact(key, pcn, ods)
        return _apply_call(call, event.event_type, d, at)
    if kind == "appointment":
        appt = (
            fact
            if isinstance(fact, AppointmentFact)
            else AppointmentFact(appointment_id=key, pcn_code=pcn, practice_ods=ods)
        )
        return _apply_appointment(appt, event.event_type, d, at)
    if kind == "session":
        sess = (
            fact
            if isinstance(fact, SessionFact)
            else SessionFact(session_id=key, pcn_code=pcn, practice_ods=ods)
        )
        if event.event_type == "session.scheduled":
            return replace(
                sess,
                session_date=date.fromisoformat(str(d["session_date"])),
                starts_at=_dt(d["starts_at"]),
                ends_at=_dt(d["ends_at"]),
            )
        return replace(sess, cancelled_at=_earliest(sess.cancelled_at, at))
    if kind == "referral":
        ref = (
            fact
            if isinstance(fact, ReferralFact)
            else ReferralFact(referral_id=key, pcn_code=pcn, practice_ods=ods)
        )
        if event.event_type == "referral.made":
            return replace(
                ref,
                destination=str(d["destination"]),
                made_at=at,
                previous_referral_id=_uuid(d.get("previous_referral_id")),
            )
        if event.event_type == "referral.accepted":
            return replace(ref, accepted_at=_earliest(ref.accepted_at, at))
        if event.event_type == "referral.declined":
            return replace(ref, declined_at=_earliest(ref.declined_at, at))
        return replace(ref, completed_at=_earliest(ref.completed_at, at))
    if kind == "escalation":
        return EscalationFact(
            escalation_id=key,
            occurred_at=at,
            reason=str(d["reason"]),
            target=str(d["target"]),
            call_id=_uuid(d.get("call_id")),
            due_at=_dt(d.get("due_at")),
            pcn_code=pcn,
            practice_ods=ods,
        )
    return SignpostFact(
        signpost_id=key,
        occurred_at=at,
        destination=str(d["destination"]),
        outcome=str(d["outcome"]),
        out_of_scope_reason=_str(d.get("out_of_scope_reason")),
        pcn_code=pcn,
        practice_ods=ods,
    )


def _apply_call(call: CallFact, event_type: str, d: Mapping[str, Any], at: datetime) -> CallFact:
    if event_type == "call.received":
        return replace(
            call,
            channel=str(d["channel"]),
            caller_urgency=_str(d.get("caller_urgency")),
            age_band=_str(d.get("age_band")),
            received_at=at,
        )
    if event_type == "appointment.waitlisted":
        return replace(call, waitlisted_at=_earliest(call.waitlisted_at, at))
    # call.triaged: the first triage times the response; the latest decision (a re-triage) stands.
    first = _earliest(call.first_triaged_at, at)
    if call.triaged_at is not None and at < call.triaged_at:
        return replace(call, first_triaged_at=first)
    return replace(
        call,
        first_triaged_at=first,
        triaged_at=at,
        triage_code=str(d["triage_code"]),
        disposition=str(d["disposition"]),
        respond_by=_dt(d.get("respond_by")),
        out_of_scope_reason=_str(d.get("out_of_scope_reason")),
        destination=_str(d.get("destination")),
    )


def _apply_appointment(
    appt: AppointmentFact, event_type: str, d: Mapping[str, Any], at: datetime
) -> AppointmentFact:
    if event_type == "appointment.booked":
        return replace(
            appt,
            call_id=_uuid(d.get("call_id")),
            session_id=_uuid(d.get("session_id")),
            appointment_type=str(d["appointment_type"]),
            booked_by=str(d["booked_by"]),
            booked_at=at,
            starts_at=_dt(d["starts_at"]),
            minutes=int(d["minutes"]),
            respond_by=_dt(d.get("respond_by")),
        )
    if event_type == "appointment.cancelled":
        return replace(appt, cancelled_at=at, cancelled_by=str(d["cancelled_by"]))
    if event_type in ("appointment.attended", "appointment.dna"):
        if appt.outcome_at is not None and at < appt.outcome_at:
            return appt  # an older outcome than the one recorded (a correction arrived first)
        return replace(
            appt,
            outcome="attended" if event_type == "appointment.attended" else "dna",
            attendance=str(d["attendance"]),
            outcome_at=at,
            next_step=_str(d.get("next_step")),
        )
    return replace(appt, dna_follow_up=str(d["outcome"]), dna_followed_up_at=at)


def fact_row(fact: Fact) -> dict[str, Any]:
    return {f.name: getattr(fact, f.name) for f in fields(fact)}


# --- the monthly return ------------------------------------------------------------------------------


@dataclass
class Facts:
    """Every fact the return needs for one PCN (calls are looked up by id for the channel)."""

    calls: list[CallFact] = field(default_factory=list)
    appointments: list[AppointmentFact] = field(default_factory=list)
    sessions: list[SessionFact] = field(default_factory=list)
    escalations: list[EscalationFact] = field(default_factory=list)
    referrals: list[ReferralFact] = field(default_factory=list)
    signposts: list[SignpostFact] = field(default_factory=list)


DEFINITIONS: dict[str, str] = {
    "month": "A Europe/London calendar month; each fact counts in the month of the local date of the event "
    "that records it (its occurred_at), except capacity, which counts sessions by session date and "
    "appointments by the local date they start.",
    "initial_assessments": "Attended initial-assessment appointments, by the channel of the call that led to "
    "them (direct_booking when a practice booked without a call).",
    "second_assessments": "Attended second-assessment appointments.",
    "prescription_slots": "Prescription appointments booked (not since cancelled) and attended.",
    "dna_rate": "NHS Data Dictionary sense: DNAs (did not attend, or arrived late and not seen) over "
    "appointments due (attended + DNA); cancellations are excluded from both.",
    "capacity": "Bookable minutes = session length less its 30-minute admin slot (cancelled sessions "
    "excluded); booked = minutes of appointments starting in the month, not cancelled; attended = those "
    "attended.",
    "response_times": "Per latest UK MHTS code, for calls first triaged in the month: median minutes from "
    "call to first triage; for appointment codes (C-E) the first live appointment of the call against the "
    "respond_by deadline (within, breached, or pending if neither booked nor past the deadline).",
    "gp_appointments_released": "Attended MHP initial assessments for calls that reached the practice as a "
    "patient request for an urgent appointment (telephone, e-consultation or walk-in): appointments that "
    "would otherwise have gone to the duty GP. GP tasks and direct bookings are not counted.",
    "referrals": "Referrals made in the month by destination; bounce-backs are referral.declined in the "
    "month (by the destination that declined); re-routed are referrals made to replace a declined one.",
}


def _in(month: str, instant: datetime | None) -> bool:
    return instant is not None and month_of(instant) == month


def _counts(keys: Iterable[str], values: Iterable[str | None]) -> dict[str, int]:
    out = dict.fromkeys(keys, 0)
    for v in values:
        if v is not None:
            out[v] = out.get(v, 0) + 1
    return out


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60


def figures(facts: Facts, month: str, as_of: datetime, pcn_facts: Facts | None = None) -> dict[str, Any]:
    """Every figure of the monthly return for one scope (a PCN, or one practice with its PCN's facts).

    `pcn_facts` lets a practice's appointment find the call (and first appointment) it belongs to.
    """
    context = pcn_facts or facts
    calls = {c.call_id: c for c in context.calls}
    appts = facts.appointments
    attended = [a for a in appts if a.outcome == "attended" and _in(month, a.outcome_at)]
    dna = [a for a in appts if a.outcome == "dna" and _in(month, a.outcome_at)]

    def channel(a: AppointmentFact) -> str:
        call = calls.get(a.call_id) if a.call_id else None
        if call is None or call.channel is None:
            return Channel.DIRECT_BOOKING.value if a.call_id is None else "unknown"
        return call.channel

    initial = [a for a in attended if a.appointment_type == AppointmentType.INITIAL_ASSESSMENT.value]
    by_channel = _counts([c.value for c in Channel], (channel(a) for a in initial))
    by_channel["total"] = len(initial)
    due = len(attended) + len(dna)
    return {
        "initial_assessments": by_channel,
        "second_assessments": sum(
            1 for a in attended if a.appointment_type == AppointmentType.SECOND_ASSESSMENT.value
        ),
        "prescription_slots": {
            "booked": sum(
                1
                for a in appts
                if a.appointment_type == AppointmentType.PRESCRIPTION.value
                and _in(month, a.booked_at)
                and a.cancelled_at is None
            ),
            "attended": sum(1 for a in attended if a.appointment_type == AppointmentType.PRESCRIPTION.value),
        },
        "attendance": {
            "due": due,
            "attended": len(attended),
            "dna": len(dna),
            "dna_rate": _ratio(len(dna), due),
            "cancelled_by_patient": sum(
                1 for a in appts if a.cancelled_by == "patient" and _in(month, a.cancelled_at)
            ),
            "cancelled_by_provider": sum(
                1 for a in appts if a.cancelled_by == "provider" and _in(month, a.cancelled_at)
            ),
        },
        "dna_follow_ups": _counts(
            [o.value for o in DnaFollowUpOutcome],
            (a.dna_follow_up for a in appts if _in(month, a.dna_followed_up_at)),
        ),
        "signposting": _counts(
            [o.value for o in SignpostOutcome],
            (s.outcome for s in facts.signposts if _in(month, s.occurred_at)),
        ),
        "signposting_by_destination": _counts(
            [], (s.destination for s in facts.signposts if _in(month, s.occurred_at))
        ),
        "capacity": _capacity(facts, month),
        "response_times": _response_times(facts.calls, context.appointments, month, as_of),
        "escalations": _counts(
            [r.value for r in EscalationReason],
            (e.reason for e in facts.escalations if _in(month, e.occurred_at)),
        ),
        "referrals": _referrals(facts.referrals, month),
        "out_of_scope": _counts(
            [r.value for r in OutOfScopeReason],
            (
                c.out_of_scope_reason
                for c in facts.calls
                if c.disposition == "out_of_scope" and _in(month, c.first_triaged_at)
            ),
        ),
        "waitlisted": sum(1 for c in facts.calls if _in(month, c.waitlisted_at)),
        "gp_appointments_released": sum(1 for a in initial if channel(a) in GP_RELEASING_CHANNELS),
    }


def _capacity(facts: Facts, month: str) -> dict[str, Any]:
    sessions = [
        s
        for s in facts.sessions
        if s.cancelled_at is None and s.session_date is not None and s.starts_at and s.ends_at
        if f"{s.session_date.year:04d}-{s.session_date.month:02d}" == month
    ]
    bookable = 0.0
    for s in sessions:
        assert s.starts_at is not None
        assert s.ends_at is not None
        bookable += max(0.0, _minutes(s.ends_at, s.starts_at) - ADMIN_SLOT.total_seconds() / 60)
    live = [a for a in facts.appointments if a.cancelled_at is None and _in(month, a.starts_at)]
    booked = sum(a.minutes or 0 for a in live)
    attended = sum(a.minutes or 0 for a in live if a.outcome == "attended")
    return {
        "sessions": len(sessions),
        "bookable_minutes": int(bookable),
        "booked_minutes": booked,
        "attended_minutes": attended,
        "utilisation": _ratio(booked, int(bookable)),
    }


def first_live_appointment(appts: Iterable[AppointmentFact]) -> AppointmentFact | None:
    live = [a for a in appts if a.cancelled_at is None and a.starts_at is not None]
    return min(live, key=lambda a: a.starts_at or datetime.max.replace(tzinfo=UTC), default=None)


def _response_times(
    calls: list[CallFact], appointments: list[AppointmentFact], month: str, as_of: datetime
) -> dict[str, dict[str, Any]]:
    by_call: dict[uuid.UUID, list[AppointmentFact]] = {}
    for a in appointments:
        if a.call_id is not None:
            by_call.setdefault(a.call_id, []).append(a)
    out: dict[str, dict[str, Any]] = {}
    for code in TriageCode:
        triaged = [c for c in calls if c.triage_code == code.value and _in(month, c.first_triaged_at)]
        row: dict[str, Any] = {
            "triaged": len(triaged),
            "call_to_triage_median_minutes": _median(
                [
                    _minutes(c.first_triaged_at, c.received_at)
                    for c in triaged
                    if c.first_triaged_at and c.received_at
                ]
            ),
        }
        if code.value in APPOINTMENT_CODES:
            within = breached = pending = 0
            waits: list[float] = []
            for c in triaged:
                first = first_live_appointment(by_call.get(c.call_id, []))
                if first is not None and first.starts_at is not None and c.triaged_at is not None:
                    waits.append(_minutes(first.starts_at, c.triaged_at))
                if c.respond_by is None:
                    continue
                if first is not None and first.starts_at is not None:
                    if first.starts_at <= c.respond_by:
                        within += 1
                    else:
                        breached += 1
                elif c.respond_by < as_of:
                    breached += 1
                else:
                    pending += 1
            row.update(
                {
                    "within_deadline": within,
                    "breached": breached,
                    "pending": pending,
                    "deadline_met_rate": _ratio(within, within + breached),
                    "triage_to_appointment_median_minutes": _median(waits),
                }
            )
        out[code.value] = row
    return out


def _referrals(referrals: list[ReferralFact], month: str) -> dict[str, Any]:
    made = [r for r in referrals if _in(month, r.made_at)]
    declined = [r for r in referrals if _in(month, r.declined_at)]
    return {
        "made": len(made),
        "by_destination": _counts([], (r.destination for r in made)),
        "bounced_back": len(declined),
        "bounced_back_by_destination": _counts([], (r.destination or "unknown" for r in declined)),
        "rerouted": sum(1 for r in made if r.previous_referral_id is not None),
    }


def deadline_totals(response_times: Mapping[str, Mapping[str, Any]]) -> tuple[int, int]:
    """(within, breached) over the appointment codes."""
    within = sum(int(response_times[c].get("within_deadline", 0)) for c in APPOINTMENT_CODES)
    breached = sum(int(response_times[c].get("breached", 0)) for c in APPOINTMENT_CODES)
    return within, breached


def split_by_practice(facts: Facts) -> dict[str, Facts]:
    """One Facts per practice; calls stay whole so an appointment at one practice finds its call's channel."""
    out: dict[str, Facts] = {}

    def bucket(ods: str) -> Facts:
        return out.setdefault(ods, Facts())

    for c in facts.calls:
        bucket(c.practice_ods).calls.append(c)
    for a in facts.appointments:
        bucket(a.practice_ods).appointments.append(a)
    for s in facts.sessions:
        bucket(s.practice_ods).sessions.append(s)
    for e in facts.escalations:
        bucket(e.practice_ods).escalations.append(e)
    for r in facts.referrals:
        bucket(r.practice_ods).referrals.append(r)
    for sp in facts.signposts:
        bucket(sp.practice_ods).signposts.append(sp)
    return dict(sorted(out.items()))


def monthly_return(pcn: str, month: str, facts: Facts, as_of: datetime) -> dict[str, Any]:
    """The monthly PCN return: the PCN total and each practice, with the definitions used."""
    per_practice = {
        ods: figures(practice_facts, month, as_of, pcn_facts=facts)
        for ods, practice_facts in split_by_practice(facts).items()
    }
    return {
        "pcn": pcn,
        "month": month,
        "timezone": "Europe/London",
        "as_of": as_of.astimezone(UTC).isoformat(),
        "definitions": DEFINITIONS,
        "pcn_total": figures(facts, month, as_of),
        "practices": per_practice,
    }


def flatten(report: Mapping[str, Any]) -> list[tuple[str, str, str, Any]]:
    """(scope, section, item, value) rows for CSV: scope is the PCN code or a practice ODS code."""
    rows: list[tuple[str, str, str, Any]] = []
    scopes = [(str(report["pcn"]), report["pcn_total"]), *report["practices"].items()]
    for scope, figs in scopes:
        for section, value in figs.items():
            _flatten_into(rows, scope, section, "", value)
    return rows


def _flatten_into(
    rows: list[tuple[str, str, str, Any]], scope: str, section: str, prefix: str, value: Any
) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten_into(rows, scope, section, f"{prefix}{k}" if not prefix else f"{prefix}.{k}", v)
    else:
        rows.append((scope, section, prefix or "value", value))


# --- the trust view: variation between PCNs ----------------------------------------------------------


def outliers(values: Mapping[str, float | None]) -> dict[str, list[str]]:
    """PCNs outside mean ± 2 SD (population SD) and outside Tukey's fences (Q1 - 1.5 IQR, Q3 + 1.5 IQR).

    Returns, per PCN, which rules flag it ("2sd_high", "2sd_low", "iqr_high", "iqr_low").
    """
    present = {k: v for k, v in values.items() if v is not None}
    flags: dict[str, list[str]] = {k: [] for k in values}
    if len(present) < 3:
        return flags  # too few PCNs for either rule to mean anything
    data = sorted(present.values())
    mean = statistics.fmean(data)
    sd = statistics.pstdev(data)
    q1, _, q3 = statistics.quantiles(data, n=4, method="inclusive")
    iqr = q3 - q1
    for pcn, v in present.items():
        if sd > 0 and v > mean + 2 * sd:
            flags[pcn].append("2sd_high")
        if sd > 0 and v < mean - 2 * sd:
            flags[pcn].append("2sd_low")
        if v > q3 + 1.5 * iqr:
            flags[pcn].append("iqr_high")
        if v < q1 - 1.5 * iqr:
            flags[pcn].append("iqr_low")
    return flags
