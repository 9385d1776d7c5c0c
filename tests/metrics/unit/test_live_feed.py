"""The live feed: which events become alerts, and the in-process fan-out to open streams."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.metrics.adapters.live_feed import FeedFull, LiveFeed
from services.metrics.domain.facts import EscalationFact
from services.metrics.domain.kinds import AlertKind, EventType
from services.metrics.domain.live_feed import alert_from_escalation, feed_item
from tests.metrics.unit.builders import archived_event, iso

T = datetime(2026, 10, 5, 9, tzinfo=UTC)


def _escalation(reason: str, **extra: str | int) -> dict[str, str | int]:
    return {"escalation_id": str(uuid.uuid4()), "reason": reason, "target": "duty_gp", **extra}


def _kind(event_type: EventType, data: dict[str, str | int], at: datetime = T) -> AlertKind:
    item = feed_item(archived_event(event_type, dict(data), at))
    assert item is not None
    return AlertKind(item["kind"])


def test_an_escalation_is_an_alert_and_a_passed_deadline_a_breach() -> None:
    risk = feed_item(archived_event(EventType.CASE_ESCALATED, _escalation("risk", rung=2), T))
    assert risk is not None
    assert (risk["kind"], risk["reason"], risk["target"], risk["rung"]) == (
        AlertKind.ESCALATION,
        "risk",
        "duty_gp",
        2,
    )
    assert set(risk) == {
        "event_id",
        "event_type",
        "pcn_code",
        "practice_ods",
        "occurred_at",
        "kind",
        "reason",
        "target",
        "rung",
    }
    assert _kind(EventType.CASE_ESCALATED, _escalation("triage_deadline_breach")) == AlertKind.DEADLINE_BREACH
    assert _kind(EventType.CASE_ESCALATED, _escalation("appointment_deadline_breach")) == (
        AlertKind.DEADLINE_BREACH
    )


def test_a_fresh_waitlisting_escalation_is_at_risk_not_a_breach_until_its_deadline_passes() -> None:
    at_risk = _escalation("appointment_deadline_at_risk", due_at=iso(T + timedelta(hours=24)))
    assert _kind(EventType.CASE_ESCALATED, at_risk) == AlertKind.DEADLINE_AT_RISK
    assert _kind(EventType.CASE_ESCALATED, _escalation("appointment_deadline_at_risk")) == (
        AlertKind.DEADLINE_AT_RISK
    )
    exactly_due = _escalation("appointment_cancelled", due_at=iso(T))
    assert _kind(EventType.CASE_ESCALATED, exactly_due) == AlertKind.DEADLINE_AT_RISK
    past_due = _escalation("appointment_cancelled", due_at=iso(T - timedelta(seconds=1)))
    assert _kind(EventType.CASE_ESCALATED, past_due) == AlertKind.DEADLINE_BREACH


def test_waitlisting_puts_a_deadline_at_risk_and_after_the_deadline_it_is_a_breach() -> None:
    def waitlisted(respond_by: datetime) -> dict[str, str | int]:
        return {"call_id": "c", "respond_by": iso(respond_by)}

    item = feed_item(archived_event(EventType.APPOINTMENT_WAITLISTED, dict(waitlisted(T)), T))
    assert item is not None
    assert (item["kind"], item["reason"]) == (AlertKind.DEADLINE_AT_RISK, "no_slot_inside_deadline")
    one_second_late = waitlisted(T - timedelta(seconds=1))
    assert _kind(EventType.APPOINTMENT_WAITLISTED, one_second_late) == AlertKind.DEADLINE_BREACH


def test_a_booking_after_its_deadline_is_at_risk_until_the_deadline_passes() -> None:
    def booked(starts: datetime) -> dict[str, str | int]:
        return {"appointment_id": "a", "starts_at": iso(starts), "respond_by": iso(T)}

    late = feed_item(archived_event(EventType.APPOINTMENT_BOOKED, booked(T + timedelta(minutes=1)), T))
    assert late is not None
    assert (late["kind"], late["reason"]) == (AlertKind.DEADLINE_AT_RISK, "booked_after_deadline")
    after = T + timedelta(seconds=1)
    assert _kind(EventType.APPOINTMENT_BOOKED, booked(T + timedelta(minutes=1)), after) == (
        AlertKind.DEADLINE_BREACH
    )
    assert feed_item(archived_event(EventType.APPOINTMENT_BOOKED, booked(T), T)) is None
    assert feed_item(archived_event(EventType.APPOINTMENT_BOOKED, {"starts_at": iso(T)}, T)) is None


def test_other_events_are_not_alerts() -> None:
    assert feed_item(archived_event(EventType.REFERRAL_MADE, {"referral_id": "r"}, T)) is None


def test_a_stored_escalation_lists_like_a_live_one() -> None:
    fact = EscalationFact(uuid.uuid4(), "U00123", "Y01234", T, "appointment_deadline_at_risk", "gp", rung=1)
    listed = alert_from_escalation(fact)
    assert listed is not None
    assert (listed["kind"], listed["rung"]) == (AlertKind.DEADLINE_AT_RISK, 1)
    breach = EscalationFact(uuid.uuid4(), "U00123", "Y01234", T, "appointment_deadline_breach", "gp")
    assert (alert_from_escalation(breach) or {})["kind"] == AlertKind.DEADLINE_BREACH
    # Only an acknowledgement seen so far: nothing to list yet.
    assert alert_from_escalation(EscalationFact(uuid.uuid4(), "U00123", "Y01234")) is None


def _item(n: int) -> dict[str, object]:
    return {"event_id": f"e{n}"}


async def test_the_feed_hands_each_alert_to_every_open_stream() -> None:
    feed = LiveFeed()
    async with feed.subscribe() as first, feed.subscribe() as second:
        feed.publish(_item(1))
        assert first.get_nowait() == second.get_nowait() == _item(1)
    feed.publish(_item(2))  # nobody listening: kept for reconnects only
    assert [i["event_id"] for i in feed.recent] == ["e1", "e2"]


async def test_a_stalled_stream_does_not_hold_up_the_others() -> None:
    feed = LiveFeed()
    async with feed.subscribe() as stalled:
        for n in range(stalled.maxsize + 5):
            feed.publish(_item(n))
        assert stalled.qsize() == stalled.maxsize


def test_a_reconnecting_browser_gets_what_came_after_its_last_event() -> None:
    feed = LiveFeed(keep=3)
    for n in range(5):
        feed.publish(_item(n))
    assert feed.since("e2") == [_item(3), _item(4)]
    assert feed.since("e0") == []  # forgotten: the page lists recent alerts from the store instead
    assert feed.since(None) == []


async def test_the_feed_has_room_for_a_bounded_number_of_streams() -> None:
    feed = LiveFeed(max_streams=2)
    async with feed.subscribe(), feed.subscribe():
        assert not feed.has_room()
        assert feed.open() is None  # the route's 503
        with pytest.raises(FeedFull):
            async with feed.subscribe():
                pass
    assert feed.has_room()


def test_a_slot_taken_by_open_is_held_until_closed() -> None:
    feed = LiveFeed(max_streams=1)
    queue = feed.open()
    assert queue is not None
    assert feed.open() is None
    feed.publish(_item(1))  # a taken slot receives from the moment it is taken
    assert queue.get_nowait() == _item(1)
    feed.close(queue)
    assert feed.open_streams == 0
    assert feed.open() is not None
