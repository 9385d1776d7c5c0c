"""Pure metrics rules: redaction, London month boundaries, order-independent folding, outlier flags."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from services.metrics.application.handlers.archive import archived
from services.metrics.domain.calendar import month_bounds, month_of
from services.metrics.domain.events import ArchivedEvent
from services.metrics.domain.facts import AppointmentFact, CallFact, Fact, Facts
from services.metrics.domain.figures import figures
from services.metrics.domain.folding import apply
from services.metrics.domain.outliers import outliers
from services.metrics.domain.privacy import redact
from tests.support.factories import call_received


def _event(event_type: str, data: dict[str, object], at: datetime) -> ArchivedEvent:
    return ArchivedEvent(uuid.uuid4(), event_type, at, uuid.uuid4(), "U00123", "Y01234", data)


def test_archived_call_keeps_an_age_band_and_drops_identity_and_free_text() -> None:
    event = call_received(date_of_birth=date(1950, 3, 1), reason="hears voices at night")
    record = archived(event)
    assert set(record.data) == {"call_id", "channel", "caller_urgency", "age_band"}
    assert record.data["age_band"] == "over_65"
    assert event.data.patient.nhs_number not in str(record.data)


def test_redaction_drops_fields_not_on_the_allow_list() -> None:
    redacted = redact("referral.declined", {"referral_id": "x", "reason": "free text"}, datetime.now(UTC))
    assert redacted == {"referral_id": "x"}


def test_month_follows_europe_london_local_dates_across_the_clock_change() -> None:
    # 23:30 UTC on 30 September is 00:30 BST on 1 October; 00:30 UTC on 1 November is GMT, still 1 November.
    assert month_of(datetime(2026, 9, 30, 23, 30, tzinfo=UTC)) == "2026-10"
    assert month_of(datetime(2026, 10, 31, 23, 59, tzinfo=UTC)) == "2026-10"
    assert month_of(datetime(2026, 11, 1, 0, 0, tzinfo=UTC)) == "2026-11"
    assert month_bounds("2026-10") == (
        datetime(2026, 9, 30, 23, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 0, 0, tzinfo=UTC),
    )


def test_appointment_fact_is_the_same_whatever_order_its_events_arrive_in() -> None:
    appt = str(uuid.uuid4())
    t = datetime(2026, 10, 5, 9, tzinfo=UTC)
    booked = _event(
        "appointment.booked",
        {
            "appointment_id": appt,
            "starts_at": t.isoformat(),
            "minutes": 30,
            "appointment_type": "initial_assessment",
            "booked_by": "mhp_service",
        },
        t,
    )
    dna = _event("appointment.dna", {"appointment_id": appt, "attendance": "did_not_attend"}, t)
    follow = _event("dna.followed_up", {"appointment_id": appt, "outcome": "rebooked"}, t)
    forward: Fact | None = None
    backward: Fact | None = None
    for e in (booked, dna, follow):
        forward = apply(forward, e)
    for e in (follow, dna, booked):
        backward = apply(backward, e)
    assert forward == backward
    assert isinstance(forward, AppointmentFact)
    assert (forward.outcome, forward.dna_follow_up, forward.minutes) == ("dna", "rebooked", 30)


def test_a_retriage_replaces_the_code_but_the_first_triage_times_the_response() -> None:
    call = str(uuid.uuid4())
    first_at, second_at = datetime(2026, 10, 1, 9, tzinfo=UTC), datetime(2026, 10, 1, 10, tzinfo=UTC)
    first = _event(
        "call.triaged", {"call_id": call, "triage_code": "E", "disposition": "appointment"}, first_at
    )
    second = _event(
        "call.triaged", {"call_id": call, "triage_code": "C", "disposition": "urgent_appointment"}, second_at
    )
    fact = apply(apply(None, second), first)
    assert isinstance(fact, CallFact)
    assert (fact.triage_code, fact.first_triaged_at, fact.triaged_at) == ("C", first_at, second_at)


def test_dna_rate_excludes_cancellations() -> None:
    t = datetime(2026, 10, 10, 9, tzinfo=UTC)

    def appt(outcome: str | None, cancelled: bool = False) -> AppointmentFact:
        return AppointmentFact(
            uuid.uuid4(),
            "U00123",
            "Y01234",
            appointment_type="follow_up",
            outcome=outcome,
            outcome_at=t if outcome else None,
            cancelled_at=t if cancelled else None,
        )

    facts = Facts(appointments=[appt("attended"), appt("attended"), appt("attended"), appt("dna")])
    facts.appointments += [appt(None, cancelled=True) for _ in range(5)]
    attendance = figures(facts, "2026-10", t)["attendance"]
    assert (attendance["due"], attendance["dna"], attendance["dna_rate"]) == (4, 1, 0.25)


def test_outliers_name_the_rule_that_flags_a_pcn() -> None:
    rates: dict[str, float | None] = {f"U0000{i}": 0.10 + i * 0.005 for i in range(6)}
    rates["U00009"] = 0.60
    rates["U00008"] = None
    flags = outliers(rates)
    assert flags["U00009"] == ["2sd_high", "iqr_high"]
    assert all(flags[p] == [] for p in rates if p != "U00009")


def test_outliers_flag_nothing_with_fewer_than_three_pcns() -> None:
    assert outliers({"U00001": 0.1, "U00002": 0.9}) == {"U00001": [], "U00002": []}
