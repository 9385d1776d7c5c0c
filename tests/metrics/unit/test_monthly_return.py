"""The monthly return's figures from hand-built facts: each definition in `DEFINITIONS`, one test each."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.metrics.domain.facts import (
    AppointmentFact,
    CallFact,
    EscalationFact,
    Facts,
    ReferralFact,
    SessionFact,
    SignpostFact,
)
from services.metrics.domain.figures import figures, minutes_between
from services.metrics.domain.monthly_return import DEFINITIONS, flatten, monthly_return

MONTH = "2026-10"
T = datetime(2026, 10, 10, 9, tzinfo=UTC)
AS_OF = datetime(2026, 11, 20, tzinfo=UTC)
HOUR = timedelta(hours=1)
PCN, A, B = "U00123", "Y01234", "Y01235"


def call(channel: str | None = "telephone", practice: str = A, **kw: Any) -> CallFact:
    return CallFact(uuid.uuid4(), PCN, practice, channel=channel, **kw)


def appt(practice: str = A, **kw: Any) -> AppointmentFact:
    return AppointmentFact(uuid.uuid4(), PCN, practice, **kw)


def attended(c: CallFact | None, kind: str = "initial_assessment", **kw: Any) -> AppointmentFact:
    kw.setdefault("outcome_at", T)
    return appt(call_id=c.call_id if c else None, appointment_type=kind, outcome="attended", **kw)


def figs(facts: Facts) -> dict[str, Any]:
    return figures(facts, MONTH, AS_OF)


def test_initial_assessments_count_by_the_channel_of_their_call() -> None:
    phone, walk_in, gp_task = call("telephone"), call("walk_in"), call("gp_task")
    lost_call = uuid.uuid4()  # an appointment whose call the service never saw
    appts = [attended(phone), attended(walk_in), attended(gp_task), attended(None)]
    appts.append(
        appt(call_id=lost_call, appointment_type="initial_assessment", outcome="attended", outcome_at=T)
    )
    appts.append(attended(phone, outcome_at=T + 40 * 24 * HOUR))  # attended next month
    result = figs(Facts(calls=[phone, walk_in, gp_task], appointments=appts))
    by_channel = result["initial_assessments"]
    assert (by_channel["telephone"], by_channel["walk_in"], by_channel["gp_task"]) == (1, 1, 1)
    assert (by_channel["direct_booking"], by_channel["unknown"], by_channel["total"]) == (1, 1, 5)
    assert result["gp_appointments_released"] == 2  # telephone and walk-in; not the GP task or direct booking


def test_second_assessments_and_prescription_slots() -> None:
    appts = [
        attended(None, "second_assessment"),
        attended(None, "prescription"),
        appt(appointment_type="prescription", booked_at=T),
        appt(appointment_type="prescription", booked_at=T, cancelled_at=T + HOUR),
    ]
    result = figs(Facts(appointments=appts))
    assert result["second_assessments"] == 1
    assert result["prescription_slots"] == {"booked": 1, "attended": 1}


def test_attendance_counts_cancellations_by_who_cancelled() -> None:
    appts = [
        attended(None),
        appt(outcome="dna", outcome_at=T),
        appt(cancelled_by="patient", cancelled_at=T),
        appt(cancelled_by="provider", cancelled_at=T),
        appt(cancelled_by="provider", cancelled_at=T - 30 * 24 * HOUR),  # September
    ]
    assert figs(Facts(appointments=appts))["attendance"] == {
        "due": 2,
        "attended": 1,
        "dna": 1,
        "dna_rate": 0.5,
        "cancelled_by_patient": 1,
        "cancelled_by_provider": 1,
    }


def test_no_appointment_due_gives_no_dna_rate() -> None:
    assert figs(Facts())["attendance"]["dna_rate"] is None


def test_capacity_is_session_minutes_less_the_admin_slot_against_live_bookings() -> None:
    def session(day: date, hours: int, cancelled: bool = False) -> SessionFact:
        starts = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
        return SessionFact(uuid.uuid4(), PCN, A, day, starts, starts + hours * HOUR, T if cancelled else None)

    sessions = [
        session(date(2026, 10, 1), 4),  # 240 - 30
        session(date(2026, 10, 2), 3, cancelled=True),
        session(date(2026, 11, 2), 3),
        SessionFact(
            uuid.uuid4(), PCN, A, date(2026, 10, 3), T, T + 20 * timedelta(minutes=1), None
        ),  # 20 min
    ]
    appts = [
        appt(starts_at=T, minutes=60, outcome="attended"),
        appt(starts_at=T, minutes=30),
        appt(starts_at=T, minutes=60, cancelled_at=T - HOUR),
    ]
    assert figs(Facts(appointments=appts, sessions=sessions))["capacity"] == {
        "sessions": 2,
        "bookable_minutes": 210,
        "booked_minutes": 90,
        "attended_minutes": 60,
        "utilisation": round(90 / 210, 4),
    }


def test_response_times_judge_calls_due_in_the_month_as_of_the_report() -> None:
    def triaged(respond_by: datetime) -> CallFact:
        return call(
            received_at=T - HOUR, first_triaged_at=T, triaged_at=T, triage_code="C", respond_by=respond_by
        )

    within, seen_late, still_waiting = (triaged(T + 24 * HOUR) for _ in range(3))
    next_month = triaged(AS_OF + HOUR)  # due in November: not a figure of October
    appts = [
        appt(call_id=within.call_id, starts_at=T + 2 * HOUR),
        appt(call_id=within.call_id, starts_at=T + 30 * HOUR),
        appt(call_id=seen_late.call_id, starts_at=T + 30 * HOUR),
        appt(call_id=seen_late.call_id, starts_at=T + HOUR, cancelled_at=T),  # cancelled: not the first
    ]
    facts = Facts(calls=[within, seen_late, still_waiting, next_month], appointments=appts)
    row = figs(facts)["response_times"]["C"]
    assert row == {
        "triaged": 4,
        "call_to_triage_median_minutes": 60.0,
        "within_deadline": 1,
        "breached": 2,  # seen late, and still waiting past the deadline
        "at_risk": 0,
        "pending": 0,
        "deadline_met_rate": round(1 / 3, 4),
        "triage_to_appointment_median_minutes": 960.0,  # median of 120 and 1800 minutes
    }
    november = figures(facts, "2026-11", AS_OF)["response_times"]["C"]
    assert (november["triaged"], november["pending"], november["breached"]) == (0, 1, 0)


def test_a_case_triaged_last_month_still_waiting_past_its_deadline_is_this_months_breach() -> None:
    # Triaged on 31 October for a four-week deadline, never booked: the November figure shows the breach.
    late_october = datetime(2026, 10, 31, 12, tzinfo=UTC)
    waiting = call(
        first_triaged_at=late_october,
        triaged_at=late_october,
        triage_code="E",
        disposition="appointment",
        respond_by=late_october + 14 * 24 * HOUR,
        waitlisted_at=late_october,
    )
    row = figures(Facts(calls=[waiting]), "2026-11", AS_OF)["response_times"]["E"]
    assert (row["breached"], row["within_deadline"], row["deadline_met_rate"]) == (1, 0, 0.0)


def test_codes_without_an_appointment_deadline_report_triage_time_only() -> None:
    c = call(received_at=T, first_triaged_at=T + HOUR, triaged_at=T + HOUR, triage_code="F")
    assert figs(Facts(calls=[c]))["response_times"]["F"] == {
        "triaged": 1,
        "call_to_triage_median_minutes": 60.0,
    }


def test_a_triage_dated_before_its_call_counts_as_no_time_not_negative_time() -> None:
    c = call(received_at=T, first_triaged_at=T - HOUR, triaged_at=T - HOUR, triage_code="D", respond_by=T)
    early = appt(call_id=c.call_id, starts_at=T - 2 * HOUR)
    row = figs(Facts(calls=[c], appointments=[early]))["response_times"]["D"]
    assert row["call_to_triage_median_minutes"] == 0.0
    assert row["triage_to_appointment_median_minutes"] == 0.0
    assert minutes_between(T, T - HOUR) == 0.0


def test_referrals_bounce_backs_and_reroutes() -> None:
    first = ReferralFact(uuid.uuid4(), PCN, A, "talking_therapies", T, declined_at=T + HOUR)
    rerouted = ReferralFact(
        uuid.uuid4(), PCN, A, "community_mental_health_team", T + 2 * HOUR, first.referral_id
    )
    unseen = ReferralFact(uuid.uuid4(), PCN, A, declined_at=T)  # only its decline was seen
    assert figs(Facts(referrals=[first, rerouted, unseen]))["referrals"] == {
        "made": 2,
        "by_destination": {"talking_therapies": 1, "community_mental_health_team": 1},
        "bounced_back": 2,
        "bounced_back_by_destination": {"talking_therapies": 1, "unknown": 1},
        "rerouted": 1,
        "withdrawn": 0,
    }


def test_withdrawn_referrals_count_in_the_month_of_their_withdrawal() -> None:
    withdrawn = ReferralFact(uuid.uuid4(), PCN, A, "talking_therapies", T, withdrawn_at=T + HOUR)
    earlier = ReferralFact(uuid.uuid4(), PCN, A, "talking_therapies", T, withdrawn_at=T - 30 * 24 * HOUR)
    assert figs(Facts(referrals=[withdrawn, earlier]))["referrals"]["withdrawn"] == 1


def test_escalations_signposts_out_of_scope_waitlist_and_follow_ups() -> None:
    facts = Facts(
        calls=[
            call(disposition="out_of_scope", out_of_scope_reason="crisis", first_triaged_at=T),
            call(
                disposition="out_of_scope", out_of_scope_reason="crisis", first_triaged_at=T - 20 * 24 * HOUR
            ),
            call(waitlisted_at=T),
        ],
        escalations=[EscalationFact(uuid.uuid4(), PCN, A, T, "risk", "crisis_team")],
        signposts=[SignpostFact(uuid.uuid4(), PCN, A, T, "voluntary_sector", "redirected")],
        appointments=[appt(dna_follow_up="rebooked", dna_followed_up_at=T)],
    )
    result = figs(facts)
    assert result["escalations"]["risk"] == 1
    assert sum(result["escalations"].values()) == 1
    assert result["signposting"]["redirected"] == 1
    assert result["signposting_by_destination"] == {"voluntary_sector": 1}
    assert result["out_of_scope"]["crisis"] == 1
    assert sum(result["out_of_scope"].values()) == 1
    assert result["waitlisted"] == 1
    assert result["dna_follow_ups"]["rebooked"] == 1


def test_a_practice_finds_the_channel_of_a_call_taken_at_another_practice() -> None:
    phoned_a = call("telephone", practice=A)
    seen_at_b = attended(phoned_a, practice=B)
    report = monthly_return(PCN, MONTH, Facts(calls=[phoned_a], appointments=[seen_at_b]), AS_OF)
    assert report["practices"][B]["initial_assessments"]["telephone"] == 1
    assert report["practices"][A]["initial_assessments"]["total"] == 0
    assert report["pcn_total"]["gp_appointments_released"] == 1
    assert (report["pcn"], report["month"], report["timezone"]) == (PCN, MONTH, "Europe/London")
    assert report["definitions"] is DEFINITIONS


def test_flatten_names_each_figure_by_scope_section_and_item() -> None:
    report = monthly_return(PCN, MONTH, Facts(calls=[call()]), AS_OF)
    rows = {(scope, section, item): value for scope, section, item, value in flatten(report)}
    assert rows[(PCN, "response_times", "C.breached")] == 0
    assert rows[(A, "waitlisted", "value")] == 0
    assert rows[(PCN, "attendance", "dna_rate")] is None
