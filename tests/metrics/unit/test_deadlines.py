"""The deadline rule every figure uses, at its boundaries, and the cases still waiting to be seen."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.metrics.domain.deadlines import deadline_status, waiting_figures
from services.metrics.domain.facts import AppointmentFact, CallFact, Facts
from services.metrics.domain.folding import apply
from services.metrics.domain.kinds import DeadlineStatus, EventType
from services.metrics.domain.trust_view import trust_view
from tests.metrics.unit.builders import PCN, PRACTICE, archived_event, iso

DUE = datetime(2026, 11, 2, 10, tzinfo=UTC)
SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def test_an_unseen_case_is_not_a_breach_exactly_at_its_deadline_and_is_one_second_after() -> None:
    assert deadline_status(DUE, None, DUE) is DeadlineStatus.PENDING
    assert deadline_status(DUE, None, DUE + SECOND) is DeadlineStatus.BREACHED


def test_a_waitlisted_case_is_at_risk_up_to_its_deadline_then_breached() -> None:
    assert deadline_status(DUE, None, DUE - DAY, waitlisted=True) is DeadlineStatus.AT_RISK
    assert deadline_status(DUE, None, DUE, waitlisted=True) is DeadlineStatus.AT_RISK
    assert deadline_status(DUE, None, DUE + SECOND, waitlisted=True) is DeadlineStatus.BREACHED


def test_a_case_seen_exactly_at_its_deadline_met_it_and_one_second_later_did_not() -> None:
    assert deadline_status(DUE, DUE, DUE) is DeadlineStatus.MET
    assert deadline_status(DUE, DUE, DUE + 30 * DAY) is DeadlineStatus.MET
    late = DUE + SECOND
    # Booked one second after the deadline: at risk while the deadline stands, a breach once it passed,
    # and still a breach after the patient was seen.
    assert deadline_status(DUE, late, DUE) is DeadlineStatus.AT_RISK
    assert deadline_status(DUE, late, DUE + SECOND) is DeadlineStatus.BREACHED
    assert deadline_status(DUE, late, DUE + 30 * DAY) is DeadlineStatus.BREACHED


def test_a_case_booked_inside_its_deadline_is_pending_until_its_appointment_starts() -> None:
    starts = DUE - HOUR
    assert deadline_status(DUE, starts, starts - SECOND) is DeadlineStatus.PENDING
    assert deadline_status(DUE, starts, starts) is DeadlineStatus.MET
    # Waitlisted earlier but booked since: not flagged any more.
    assert deadline_status(DUE, starts, starts - DAY, waitlisted=True) is DeadlineStatus.PENDING


def _case(triaged_at: datetime, respond_by: datetime, **kw: Any) -> CallFact:
    kw.setdefault("disposition", "appointment")
    kw.setdefault("triage_code", "D")
    return CallFact(
        uuid.uuid4(),
        PCN,
        PRACTICE,
        received_at=triaged_at - HOUR,
        first_triaged_at=triaged_at,
        triaged_at=triaged_at,
        respond_by=respond_by,
        **kw,
    )


def _appointment(case: CallFact, starts_at: datetime, **kw: Any) -> AppointmentFact:
    return AppointmentFact(uuid.uuid4(), PCN, PRACTICE, call_id=case.call_id, starts_at=starts_at, **kw)


def test_a_pcn_with_three_cases_waitlisted_past_their_deadlines_shows_them_as_breaches() -> None:
    # The dashboard: three D cases triaged on 30 October, waitlisted, due on 2 November, still
    # unseen on 20 November; one case triaged and seen inside its deadline in November.
    as_of = datetime(2026, 11, 20, 12, tzinfo=UTC)
    october = datetime(2026, 10, 30, 10, tzinfo=UTC)
    waitlisted = [_case(october, october + 72 * HOUR, waitlisted_at=october) for _ in range(3)]
    seen = _case(datetime(2026, 11, 10, 9, tzinfo=UTC), datetime(2026, 11, 13, 9, tzinfo=UTC))
    facts = Facts(
        calls=[*waitlisted, seen], appointments=[_appointment(seen, datetime(2026, 11, 11, 9, tzinfo=UTC))]
    )

    row = trust_view({PCN: facts}, "2026-11", as_of)["pcns"][PCN]

    assert (row["deadlines_met"], row["deadlines_breached"]) == (1, 3)
    assert row["deadline_met_rate"] == 0.25  # not 100%
    waiting = row["waiting"]
    assert (waiting["waiting"], waiting["unbooked"], waiting["waitlisted"]) == (3, 3, 3)
    assert (waiting["past_deadline"], waiting["at_risk"]) == (3, 0)
    oldest = october - HOUR  # the calls were received an hour before triage
    assert waiting["oldest_waiting_since"] == oldest.isoformat()
    assert waiting["oldest_wait_minutes"] == (as_of - oldest).total_seconds() / 60


def test_waiting_counts_every_unseen_appointment_case_and_nothing_seen_or_handed_over() -> None:
    as_of = datetime(2026, 11, 20, 12, tzinfo=UTC)
    t = as_of - DAY
    booked_ahead = _case(t, as_of + DAY)
    booked_late = _case(t, as_of + HOUR)
    lost_its_slot = _case(t, as_of + DAY)  # its only appointment was cancelled: waiting again, unbooked
    at_risk = _case(t, as_of + DAY, waitlisted_at=t)
    exactly_due = _case(t, as_of)
    seen = _case(t, as_of + DAY)
    handed_over = _case(t, as_of - HOUR, disposition="refer", triage_code="F")
    appts = [
        _appointment(booked_ahead, as_of + HOUR),
        _appointment(booked_late, as_of + 2 * HOUR),
        _appointment(lost_its_slot, as_of + HOUR, cancelled_at=t),
        _appointment(seen, as_of),
    ]
    calls = [booked_ahead, booked_late, lost_its_slot, at_risk, exactly_due, seen, handed_over]

    figures = waiting_figures(calls, appts, as_of)

    assert figures["waiting"] == 5
    assert figures["unbooked"] == 3  # lost its slot, waitlisted, exactly due
    assert figures["waitlisted"] == 1
    assert figures["at_risk"] == 2  # booked after its deadline, waitlisted
    assert figures["past_deadline"] == 0  # exactly at its deadline is not yet past it
    assert waiting_figures(calls, appts, as_of + SECOND)["past_deadline"] == 1


def test_nothing_waiting_has_no_oldest_wait() -> None:
    assert waiting_figures([], [], DUE) == {
        "waiting": 0,
        "unbooked": 0,
        "waitlisted": 0,
        "at_risk": 0,
        "past_deadline": 0,
        "oldest_waiting_since": None,
        "oldest_wait_minutes": None,
    }


def test_the_highest_decision_sequence_stands_whatever_order_the_decisions_arrive_in() -> None:
    # E -> D -> C, delivered 1, 3, 2 (and C's event dated before D's: producers' clocks differ).
    call = str(uuid.uuid4())
    t = datetime(2026, 10, 5, 9, tzinfo=UTC)

    def decision(sequence: int, code: str, at: datetime, window: timedelta) -> Any:
        data = {
            "call_id": call,
            "triage_code": code,
            "disposition": "appointment",
            "respond_by": iso(at + window),
            "decision_sequence": sequence,
        }
        return archived_event(EventType.CALL_TRIAGED, data, at)

    e = decision(1, "E", t, 28 * DAY)
    d = decision(2, "D", t + 2 * HOUR, 72 * HOUR)
    c = decision(3, "C", t + HOUR, 24 * HOUR)
    fact: Any = None
    for event in (e, c, d):
        fact = apply(fact, event)
    assert isinstance(fact, CallFact)
    assert (fact.triage_code, fact.decision_sequence, fact.respond_by) == ("C", 3, t + 25 * HOUR)
    assert fact.first_triaged_at == t
