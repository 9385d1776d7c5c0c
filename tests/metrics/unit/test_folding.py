"""Folding: what each event kind sets on its fact, and that arrival order never changes the result."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.metrics.domain.events import UnknownEventType, entity_key
from services.metrics.domain.facts import (
    AppointmentFact,
    CallFact,
    EscalationFact,
    Fact,
    ReferralFact,
    SessionFact,
    SignpostFact,
)
from services.metrics.domain.folding import FOLDS, apply, instant
from services.metrics.domain.kinds import EventType, FactKind
from tests.metrics.unit.builders import PCN, PRACTICE, archived_event, iso

T = datetime(2026, 10, 5, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)


def fold(*events: object) -> Fact:
    fact: Fact | None = None
    for e in events:
        fact = apply(fact, e)  # type: ignore[arg-type]
    assert fact is not None
    return fact


def test_every_event_type_has_a_fold() -> None:
    assert set(FOLDS) == set(EventType)


def test_call_received_sets_the_channel_urgency_age_band_and_receipt() -> None:
    call = str(uuid.uuid4())
    data = {"call_id": call, "channel": "walk_in", "caller_urgency": "urgent", "age_band": "over_65"}
    fact = fold(archived_event(EventType.CALL_RECEIVED, data, T))
    assert fact == CallFact(
        uuid.UUID(call),
        PCN,
        PRACTICE,
        channel="walk_in",
        caller_urgency="urgent",
        age_band="over_65",
        received_at=T,
    )


def test_call_triaged_sets_the_decision_and_deadline() -> None:
    call = str(uuid.uuid4())
    data = {
        "call_id": call,
        "triage_code": "C",
        "disposition": "urgent_appointment",
        "respond_by": iso(T + 24 * HOUR),
    }
    fact = fold(archived_event(EventType.CALL_TRIAGED, data, T))
    assert isinstance(fact, CallFact)
    assert (fact.triage_code, fact.disposition, fact.respond_by) == ("C", "urgent_appointment", T + 24 * HOUR)
    assert fact.first_triaged_at == fact.triaged_at == T


def test_an_older_triage_arriving_late_only_moves_the_first_triage_time() -> None:
    call = str(uuid.uuid4())
    later = archived_event(
        EventType.CALL_TRIAGED, {"call_id": call, "triage_code": "F", "disposition": "signpost"}, T + HOUR
    )
    earlier = archived_event(
        EventType.CALL_TRIAGED,
        {"call_id": call, "triage_code": "D", "disposition": "appointment", "respond_by": iso(T)},
        T,
    )
    fact = fold(later, earlier)
    assert isinstance(fact, CallFact)
    assert (fact.triage_code, fact.respond_by, fact.first_triaged_at, fact.triaged_at) == (
        "F",
        None,
        T,
        T + HOUR,
    )


def test_waitlisting_keeps_the_first_time_a_call_was_waitlisted() -> None:
    call = str(uuid.uuid4())
    data = {"call_id": call, "respond_by": iso(T), "minutes": 30}
    fact = fold(
        archived_event(EventType.APPOINTMENT_WAITLISTED, data, T + HOUR),
        archived_event(EventType.APPOINTMENT_WAITLISTED, data, T),
    )
    assert isinstance(fact, CallFact)
    assert fact.waitlisted_at == T


def _booked(appt: str, **extra: object) -> dict[str, object]:
    return {
        "appointment_id": appt,
        "starts_at": iso(T + 48 * HOUR),
        "minutes": 60,
        "appointment_type": "initial_assessment",
        "booked_by": "mhp_service",
        **extra,
    }


def test_booking_sets_the_appointment_and_its_call() -> None:
    appt, call = str(uuid.uuid4()), str(uuid.uuid4())
    fact = fold(archived_event(EventType.APPOINTMENT_BOOKED, _booked(appt, call_id=call), T))
    assert isinstance(fact, AppointmentFact)
    assert (fact.call_id, fact.booked_at, fact.starts_at, fact.minutes) == (
        uuid.UUID(call),
        T,
        T + 48 * HOUR,
        60,
    )


def test_cancellation_records_who_and_when() -> None:
    appt = str(uuid.uuid4())
    fact = fold(
        archived_event(EventType.APPOINTMENT_BOOKED, _booked(appt), T),
        archived_event(
            EventType.APPOINTMENT_CANCELLED, {"appointment_id": appt, "cancelled_by": "patient"}, T + HOUR
        ),
    )
    assert isinstance(fact, AppointmentFact)
    assert (fact.cancelled_at, fact.cancelled_by) == (T + HOUR, "patient")


def test_the_latest_outcome_stands_whichever_arrives_first() -> None:
    appt = str(uuid.uuid4())
    dna = archived_event(
        EventType.APPOINTMENT_DNA, {"appointment_id": appt, "attendance": "did_not_attend"}, T
    )
    attended = archived_event(
        EventType.APPOINTMENT_ATTENDED,
        {"appointment_id": appt, "attendance": "arrived_late_seen", "next_step": "follow_up"},
        T + HOUR,
    )
    for events in ((dna, attended), (attended, dna)):
        fact = fold(*events)
        assert isinstance(fact, AppointmentFact)
        assert (fact.outcome, fact.attendance, fact.next_step, fact.outcome_at) == (
            "attended",
            "arrived_late_seen",
            "follow_up",
            T + HOUR,
        )


def test_a_dna_follow_up_is_recorded_on_the_appointment() -> None:
    appt = str(uuid.uuid4())
    fact = fold(archived_event(EventType.DNA_FOLLOWED_UP, {"appointment_id": appt, "outcome": "rebooked"}, T))
    assert isinstance(fact, AppointmentFact)
    assert (fact.dna_follow_up, fact.dna_followed_up_at, fact.minutes) == ("rebooked", T, None)


def test_a_session_is_scheduled_then_cancelled_in_either_order() -> None:
    session = str(uuid.uuid4())
    scheduled = archived_event(
        EventType.SESSION_SCHEDULED,
        {
            "session_id": session,
            "session_date": "2026-10-05",
            "starts_at": iso(T),
            "ends_at": iso(T + 3 * HOUR),
        },
        T - 240 * HOUR,
    )
    cancelled = archived_event(EventType.SESSION_CANCELLED, {"session_id": session}, T - HOUR)
    expected = SessionFact(uuid.UUID(session), PCN, PRACTICE, date(2026, 10, 5), T, T + 3 * HOUR, T - HOUR)
    assert fold(scheduled, cancelled) == fold(cancelled, scheduled) == expected


def test_a_referral_records_each_step_at_its_earliest() -> None:
    ref, previous = str(uuid.uuid4()), str(uuid.uuid4())
    made = archived_event(
        EventType.REFERRAL_MADE,
        {"referral_id": ref, "destination": "talking_therapies", "previous_referral_id": previous},
        T,
    )
    steps = [
        archived_event(EventType.REFERRAL_ACCEPTED, {"referral_id": ref}, T + HOUR),
        archived_event(EventType.REFERRAL_DECLINED, {"referral_id": ref}, T + 2 * HOUR),
        archived_event(EventType.REFERRAL_DECLINED, {"referral_id": ref}, T + 5 * HOUR),
        archived_event(EventType.REFERRAL_COMPLETED, {"referral_id": ref}, T + 3 * HOUR),
    ]
    expected = ReferralFact(
        uuid.UUID(ref),
        PCN,
        PRACTICE,
        "talking_therapies",
        T,
        uuid.UUID(previous),
        T + HOUR,
        T + 2 * HOUR,
        T + 3 * HOUR,
    )
    for order in itertools.permutations([made, *steps]):
        assert fold(*order) == expected


def test_an_escalation_is_one_whole_fact() -> None:
    esc, call = str(uuid.uuid4()), str(uuid.uuid4())
    data = {
        "escalation_id": esc,
        "target": "crisis_team",
        "reason": "risk",
        "call_id": call,
        "due_at": iso(T),
    }
    assert fold(archived_event(EventType.CASE_ESCALATED, data, T)) == EscalationFact(
        uuid.UUID(esc), PCN, PRACTICE, T, "risk", "crisis_team", uuid.UUID(call), T
    )


def test_a_signpost_is_one_whole_fact() -> None:
    sp = str(uuid.uuid4())
    data = {"signpost_id": sp, "destination": "voluntary_sector", "outcome": "redirected"}
    assert fold(archived_event(EventType.SIGNPOST_RECORDED, data, T)) == SignpostFact(
        uuid.UUID(sp), PCN, PRACTICE, T, "voluntary_sector", "redirected"
    )


def test_each_event_names_its_fact() -> None:
    appt = uuid.uuid4()
    event = archived_event(EventType.DNA_FOLLOWED_UP, {"appointment_id": str(appt), "outcome": "rebooked"}, T)
    assert entity_key(event) == (FactKind.APPOINTMENT, appt)


def test_an_event_type_with_no_fact_is_a_rule_violation() -> None:
    event = archived_event(EventType.CALL_RECEIVED, {"call_id": str(uuid.uuid4())}, T)
    stray = type(event)(**{**event.__dict__, "event_type": "call.forgotten"})
    with pytest.raises(UnknownEventType):
        apply(None, stray)


def test_archived_instants_must_carry_their_offset() -> None:
    assert instant("2026-10-05T09:00:00Z") == T
    assert instant("2026-10-05T10:00:00+01:00") == T
    with pytest.raises(ValueError, match="offset"):
        instant("2026-10-05T09:00:00")
