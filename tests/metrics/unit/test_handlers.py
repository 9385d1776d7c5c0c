"""The command handlers and queries against the in-memory unit of work, fed real contract events."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.metrics.application import queries
from services.metrics.application.commands import ArchiveEvent, RebuildProjections
from services.metrics.application.handlers.archive import archive_event
from services.metrics.application.handlers.rebuild import rebuild_projections
from services.metrics.domain.calendar import InvalidMonth
from services.metrics.domain.facts import AppointmentFact, CallFact
from services.metrics.domain.kinds import AlertKind, FactKind
from shared.contracts.codes import EscalationReason, EscalationTarget
from shared.contracts.v1 import CaseEscalated, CaseEscalatedData
from tests.metrics import journeys as gen
from tests.metrics.unit.fakes import FakeFeed, FakeMetricsUnitOfWork, make_context
from tests.support.factories import call_received


@pytest.fixture(scope="module")
def month_of_journeys() -> tuple[list[gen.Journey], list[gen.Session], list[Any]]:
    journeys, sessions = gen.generate(seed=3, journeys_per_pcn=25)
    return journeys, sessions, gen.events(journeys, sessions)


def escalation(reason: EscalationReason) -> CaseEscalated:
    return CaseEscalated.create(
        CaseEscalatedData(escalation_id=uuid.uuid4(), target=EscalationTarget.DUTY_GP, reason=reason),
        producer="RMH/triage",
        pcn_code="U00123",
        practice_ods="Y01234",
        correlation_id=uuid.uuid4(),
    )


async def test_archiving_keeps_the_redacted_event_and_creates_its_fact() -> None:
    uow, event = FakeMetricsUnitOfWork(), call_received()
    fact = await archive_event(ArchiveEvent(event), uow, make_context())
    assert isinstance(fact, CallFact)
    assert (fact.call_id, fact.channel, fact.received_at) == (
        event.data.call_id,
        "telephone",
        event.occurred_at,
    )
    [record] = uow.archive.records
    assert record.event_id == event.event_id
    assert "patient" not in record.data
    assert "reason" not in record.data
    assert await uow.projections.get(FactKind.CALL, event.data.call_id) == fact
    assert uow.events == []  # metrics publishes nothing


async def test_a_second_event_about_the_same_entity_updates_its_fact(
    month_of_journeys: tuple[list[gen.Journey], list[gen.Session], list[Any]],
) -> None:
    journeys, _, _ = month_of_journeys
    journey = next(j for j in journeys if any(a.outcome for a in j.appointments))
    uow, ctx = FakeMetricsUnitOfWork(), make_context()
    for event in gen.events([journey], []):
        await archive_event(ArchiveEvent(event), uow, ctx)
    appt = next(a for a in journey.appointments if a.outcome)
    stored = await uow.projections.get(FactKind.APPOINTMENT, appt.appointment_id)
    assert isinstance(stored, AppointmentFact)
    assert (stored.outcome, stored.outcome_at, stored.minutes) == (
        appt.outcome,
        appt.outcome_at,
        appt.minutes,
    )


async def test_an_alert_reaches_the_feed_only_once_the_unit_of_work_commits() -> None:
    feed = FakeFeed()
    ctx = make_context(feed)
    committed, rolled_back = FakeMetricsUnitOfWork(), FakeMetricsUnitOfWork()
    kept = escalation(EscalationReason.APPOINTMENT_DEADLINE_AT_RISK)
    await archive_event(ArchiveEvent(kept), committed, ctx)
    await archive_event(ArchiveEvent(escalation(EscalationReason.RISK)), rolled_back, ctx)
    await archive_event(ArchiveEvent(call_received()), committed, ctx)  # not an alert
    assert feed.items == []
    committed.commit()
    assert [(i["event_id"], i["kind"]) for i in feed.items] == [
        (str(kept.event_id), AlertKind.DEADLINE_AT_RISK)
    ]


async def test_a_month_of_journeys_gives_the_ground_truth_return_and_a_rebuild_gives_the_same(
    month_of_journeys: tuple[list[gen.Journey], list[gen.Session], list[Any]],
) -> None:
    journeys, sessions, events = month_of_journeys
    uow, ctx = FakeMetricsUnitOfWork(), make_context()
    for event in events:
        await archive_event(ArchiveEvent(event), uow, ctx)
    for pcn in gen.PCNS:
        report = await queries.monthly_report(uow, pcn, gen.MONTH, gen.AS_OF)
        expected = gen.expected_return(journeys, sessions, pcn)
        assert report["pcn_total"] == expected["pcn_total"]
        assert report["practices"] == expected["practices"]

    live = dict(uow.projections.rows)
    await uow.projections.replace_all([])
    progress: list[tuple[int, int]] = []
    replayed = await rebuild_projections(
        RebuildProjections(chunk=100, progress=lambda done, total: progress.append((done, total))), uow, ctx
    )
    assert replayed == len(events) == await queries.archive_size(uow)
    assert uow.projections.rows == live
    assert progress[-1] == (len(events), len(events))
    assert [done for done, _ in progress] == sorted({done for done, _ in progress})


async def test_the_trust_report_lists_every_pcn_with_six_months_of_trend(
    month_of_journeys: tuple[list[gen.Journey], list[gen.Session], list[Any]],
) -> None:
    _, _, events = month_of_journeys
    uow, ctx = FakeMetricsUnitOfWork(), make_context()
    for event in events:
        await archive_event(ArchiveEvent(event), uow, ctx)
    view = await queries.trust_report(uow, gen.MONTH, gen.AS_OF)
    assert sorted(view["pcns"]) == sorted(gen.PCNS)
    assert view["months"] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert all(len(trend) == 6 for trend in view["trends"].values())


async def test_reports_refuse_an_unknown_pcn_and_an_impossible_month() -> None:
    uow = FakeMetricsUnitOfWork()
    await archive_event(ArchiveEvent(call_received()), uow, make_context())
    with pytest.raises(queries.UnknownPcn):
        await queries.monthly_report(uow, "U99999", gen.MONTH, gen.AS_OF)
    with pytest.raises(InvalidMonth):
        await queries.monthly_report(uow, "U00123", "9999-12", gen.AS_OF)
    with pytest.raises(InvalidMonth):
        await queries.trust_report(uow, "0001-01", gen.AS_OF)


async def test_recent_alerts_are_the_newest_escalations_first() -> None:
    uow, ctx = FakeMetricsUnitOfWork(), make_context()
    events = [escalation(EscalationReason.RISK) for _ in range(3)]
    for event in events:
        await archive_event(ArchiveEvent(event), uow, ctx)
    alerts = await queries.recent_alerts(uow, limit=2)
    newest = sorted(events, key=lambda e: e.occurred_at, reverse=True)[:2]
    assert [a["occurred_at"] for a in alerts] == [e.occurred_at.isoformat() for e in newest]
