"""Referrals on a real broker and database: referring, signposting, responses, re-routing, chasing."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import col, select

from services.referrals.adapters.tables import Referral, Signpost
from services.referrals.adapters.unit_of_work import SqlReferralsUnitOfWork
from services.referrals.application.commands import AcceptReferral
from services.referrals.application.handlers.referrals import accept_referral
from services.referrals.bootstrap import ReferralsHost
from shared.contracts.codes import Destination, Disposition, NextStep, OutOfScopeReason, TriageCode
from shared.contracts.routing import binding_key
from shared.contracts.v1 import (
    ReferralAccepted,
    ReferralAcceptedData,
    ReferralCompleted,
    ReferralCompletedData,
    ReferralDeclined,
    ReferralDeclinedData,
)
from shared.messaging.outbox import OutboxMessage
from tests.referrals.conftest import (
    LEAD,
    PCN,
    PRACTICE,
    HostFactory,
    attended,
    call_triaged,
    events_of,
    wait_events,
    watchdog_passes,
)
from tests.support.amqp import EventCapture, eventually, publish_event, queue_depth
from tests.support.clock import MONDAY_10AM, FakeClock

pytestmark = pytest.mark.integration


async def _referrals(host: ReferralsHost, **where: Any) -> list[Referral]:
    async with host.db.read() as session:
        query = select(Referral)
        for name, value in where.items():
            query = query.where(col(getattr(Referral, name)) == value)
        return list((await session.exec(query.order_by(col(Referral.made_at)))).all())


async def _one_referral(host: ReferralsHost, **where: Any) -> Referral:
    async def present() -> bool:
        return len(await _referrals(host, **where)) >= 1

    await eventually(present, message=f"no referral {where}")
    [referral] = await _referrals(host, **where)
    return referral


async def _staged(host: ReferralsHost, event_type: str) -> int:
    async with host.db.read() as session:
        query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.event_type == event_type)
        return int((await session.exec(query)).one())


async def _drained(url: str, *queues: str) -> None:
    async def empty() -> bool:
        return all([await queue_depth(url, q) == 0 for q in queues])

    await eventually(empty, message="queues not drained")


def _response(cls: type[Any], data: Any, referral: Referral) -> Any:
    return cls.create(
        data,
        producer="RX4/cmht",
        pcn_code=referral.pcn_code,
        practice_ods=referral.practice_ods,
        correlation_id=referral.correlation_id,
    )


async def test_refer_disposition_makes_one_referral_to_the_first_service_even_when_delivered_twice(
    referrals: ReferralsHost, amqp_url: str
) -> None:
    event = call_triaged(Disposition.REFER)  # triage names no destination: the directory's default
    async with EventCapture(amqp_url, binding_key("referral.made")) as capture:
        await publish_event(amqp_url, event)
        await publish_event(amqp_url, event)  # redelivered: same event id
        await publish_event(amqp_url, event.model_copy(update={"event_id": uuid.uuid4()}))  # re-sent
        referral = await _one_referral(referrals, call_id=event.data.call_id)
        await _drained(amqp_url, "referrals.on_call_triaged")
        [made] = await wait_events(capture, "referral.made", 1, referral_id=referral.referral_id)
    assert referral.status == "made"
    assert referral.destination == "community_mental_health_team"
    assert referral.service_code == "cmht-east"
    assert referral.response_due_at == MONDAY_10AM + timedelta(days=7)  # 5 working days: next Monday
    assert made["producer"] == "RMH/referrals"
    assert made["correlation_id"] == str(event.correlation_id)
    assert made["causation_id"] == str(event.event_id)
    assert made["data"]["destination_service"] == "cmht-east"
    assert made["data"]["call_id"] == str(event.data.call_id)
    assert len(await _referrals(referrals)) == 1
    assert await _staged(referrals, "referral.made") == 1


async def test_signpost_advice_and_out_of_scope_are_recorded_with_their_outcome_codes(
    referrals: ReferralsHost, amqp_url: str
) -> None:
    signpost = call_triaged(Disposition.SIGNPOST, destination=Destination.TALKING_THERAPIES)
    advice = call_triaged(Disposition.ADVICE, code=TriageCode.G)
    under_18 = call_triaged(
        Disposition.OUT_OF_SCOPE,
        code=TriageCode.E,
        destination=Destination.CHILDREN_AND_YOUNG_PEOPLE,
        out_of_scope_reason=OutOfScopeReason.UNDER_18,
    )
    appointment = call_triaged(Disposition.ESCALATE, code=TriageCode.B)  # triage's own business
    expected = {
        signpost.data.call_id: ("talking_therapies", "self_referral_advised", None),
        advice.data.call_id: ("voluntary_sector", "information_given", None),
        under_18.data.call_id: ("children_and_young_people_mh", "redirected", "under_18"),
    }
    async with EventCapture(amqp_url, binding_key("signpost.recorded")) as capture:
        for event in (signpost, advice, under_18, appointment):
            await publish_event(amqp_url, event)
            await publish_event(amqp_url, event)  # duplicate delivery of each
        recorded = await wait_events(capture, "signpost.recorded", 3)
        await _drained(amqp_url, "referrals.on_call_triaged")
        await referrals.relay.run_once()
    assert len(capture.of_type("signpost.recorded")) == 3
    got = {
        uuid.UUID(e["data"]["call_id"]): (
            e["data"]["destination"],
            e["data"]["outcome"],
            e["data"]["out_of_scope_reason"],
        )
        for e in recorded
    }
    assert got == expected
    async with referrals.db.read() as session:
        assert len((await session.exec(select(Signpost))).all()) == 3
    assert await _referrals(referrals) == []


async def test_attendance_with_referral_next_step_refers_to_the_named_destination_once(
    referrals: ReferralsHost, amqp_url: str
) -> None:
    event = attended(NextStep.REFERRAL, Destination.SOCIAL_PRESCRIBING)
    discharge = attended(NextStep.DISCHARGE)
    async with EventCapture(amqp_url, binding_key("referral.made")) as capture:
        for each in (event, event, discharge, discharge):
            await publish_event(amqp_url, each)
        await publish_event(amqp_url, event.model_copy(update={"event_id": uuid.uuid4()}))
        referral = await _one_referral(referrals, appointment_id=event.data.appointment_id)
        await _drained(amqp_url, "referrals.on_appointment_attended")
        [made] = await wait_events(capture, "referral.made", 1)
        await referrals.relay.run_once()
    assert referral.service_code == "spl-u00123"
    assert made["data"]["appointment_id"] == str(event.data.appointment_id)
    assert made["data"]["destination"] == "social_prescribing_link_worker"
    assert len(await _referrals(referrals)) == 1


async def test_two_declines_in_a_row_reroute_then_stay_open_for_the_clinical_lead(
    referrals: ReferralsHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    event = call_triaged(Disposition.REFER, destination=Destination.COMMUNITY_MENTAL_HEALTH_TEAM)
    async with EventCapture(amqp_url, binding_key("referral.*"), binding_key("case.escalated")) as capture:
        await publish_event(amqp_url, event)
        first = await _one_referral(referrals, call_id=event.data.call_id)

        response = await client.post(
            f"/referrals/{first.referral_id}/decline",
            json={"reason_code": "service_unavailable", "reason": "no capacity"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "declined"
        second = await _one_referral(referrals, previous_referral_id=first.referral_id)
        assert response.json()["rerouted_to"] == str(second.referral_id)
        assert second.service_code == "cmht-west"

        response = await client.post(
            f"/referrals/{second.referral_id}/decline", json={"reason_code": "outside_catchment"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "unplaced"
        assert response.json()["needs_clinical_lead"] is True

        made = await wait_events(capture, "referral.made", 2)
        declined = await wait_events(capture, "referral.declined", 2)
        bounced = await wait_events(capture, "case.escalated", 2, reason="bounced_referral")
        await referrals.relay.run_once()
    assert made[1]["data"]["previous_referral_id"] == str(first.referral_id)
    assert made[1]["data"]["destination_service"] == "cmht-west"
    assert {d["data"]["referral_id"] for d in declined} == {str(first.referral_id), str(second.referral_id)}
    assert {b["data"]["referral_id"] for b in bounced} == {str(first.referral_id), str(second.referral_id)}
    assert all(b["data"]["target"] == "practice_clinical_lead" for b in bounced)
    assert all(b["data"]["assigned_to"] == LEAD for b in bounced)
    assert len(capture.of_type("referral.made")) == 2  # no third service of the kind: not re-routed again
    # The last declined referral stays visibly open; the first is closed by its re-route.
    listed = (await client.get("/referrals", params={"pcn": PCN})).json()
    assert [r["referral_id"] for r in listed] == [str(second.referral_id)]
    detail = (await client.get(f"/referrals/{first.referral_id}")).json()
    assert detail["bounce_backs"] == 2
    assert [r["destination_service"] for r in detail["chain"]] == ["cmht-east", "cmht-west"]


async def test_decline_event_from_a_receiving_service_reroutes_once_when_delivered_twice(
    referrals: ReferralsHost, amqp_url: str
) -> None:
    event = call_triaged(Disposition.REFER, destination=Destination.TALKING_THERAPIES)
    async with EventCapture(amqp_url, binding_key("referral.made"), binding_key("case.escalated")) as capture:
        await publish_event(amqp_url, event)
        first = await _one_referral(referrals, call_id=event.data.call_id)
        declined = _response(
            ReferralDeclined, ReferralDeclinedData(referral_id=first.referral_id, reason="needs CMHT"), first
        )
        await publish_event(amqp_url, declined)
        await publish_event(amqp_url, declined)
        await publish_event(amqp_url, declined.model_copy(update={"event_id": uuid.uuid4()}))
        second = await _one_referral(referrals, previous_referral_id=first.referral_id)
        await _drained(amqp_url, "referrals.on_referral_response")
        await wait_events(capture, "case.escalated", 1, referral_id=first.referral_id)
        await referrals.relay.run_once()
    assert second.service_code == "tt-central"
    assert len(events_of(capture, "referral.made", previous_referral_id=first.referral_id)) == 1
    assert len(events_of(capture, "case.escalated", referral_id=first.referral_id)) == 1
    [after] = await _referrals(referrals, referral_id=first.referral_id)
    assert (after.status, after.decline_reason, after.rerouted_to) == (
        "declined",
        "needs CMHT",
        second.referral_id,
    )


async def test_accept_and_complete_events_move_the_lifecycle_and_duplicates_change_nothing(
    referrals: ReferralsHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    event = call_triaged(Disposition.REFER)
    await publish_event(amqp_url, event)
    referral = await _one_referral(referrals, call_id=event.data.call_id)
    accepted = _response(ReferralAccepted, ReferralAcceptedData(referral_id=referral.referral_id), referral)
    completed = _response(
        ReferralCompleted, ReferralCompletedData(referral_id=referral.referral_id), referral
    )
    for each in (accepted, accepted, accepted.model_copy(update={"event_id": uuid.uuid4()})):
        await publish_event(amqp_url, each)

    async def status_is(expected: str) -> bool:
        return (await _one_referral(referrals, referral_id=referral.referral_id)).status == expected

    await eventually(lambda: status_is("accepted"))
    await publish_event(amqp_url, completed)
    await publish_event(amqp_url, completed)
    await eventually(lambda: status_is("completed"))
    await _drained(amqp_url, "referrals.on_referral_response")
    after = await _one_referral(referrals, referral_id=referral.referral_id)
    assert after.accepted_at is not None
    assert after.completed_at is not None
    assert (await client.get("/referrals", params={"pcn": PCN})).json() == []  # completed: closed
    # Nothing was re-published: responses from other services are already on the bus.
    assert await _staged(referrals, "referral.accepted") == 0
    assert await _staged(referrals, "referral.completed") == 0


async def test_http_responses_are_published_and_this_services_own_events_are_not_applied_twice(
    referrals: ReferralsHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    event = call_triaged(Disposition.REFER, destination=Destination.CLINICAL_PHARMACIST)
    async with EventCapture(
        amqp_url, binding_key("referral.accepted"), binding_key("referral.completed")
    ) as capture:
        await publish_event(amqp_url, event)
        referral = await _one_referral(referrals, call_id=event.data.call_id)
        assert (await client.post(f"/referrals/{referral.referral_id}/accept")).status_code == 200
        assert (await client.post(f"/referrals/{referral.referral_id}/complete")).status_code == 200
        [accepted] = await wait_events(capture, "referral.accepted", 1)
        await wait_events(capture, "referral.completed", 1)
        # Our own events come back through our queue and must be skipped, not dead-lettered.
        await _drained(amqp_url, "referrals.on_referral_response", "referrals.on_referral_response.dlq")
    assert accepted["producer"] == "RMH/referrals"
    assert accepted["causation_id"] is not None
    assert (await _one_referral(referrals, referral_id=referral.referral_id)).status == "completed"


async def test_wrong_transitions_get_409_and_bad_input_a_4xx_naming_the_field(
    referrals: ReferralsHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    event = call_triaged(Disposition.REFER)
    await publish_event(amqp_url, event)
    referral = await _one_referral(referrals, call_id=event.data.call_id)
    rid = referral.referral_id

    response = await client.post(f"/referrals/{rid}/complete")
    assert response.status_code == 409
    assert "accept it before completing it" in response.json()["detail"]

    response = await client.post(f"/referrals/{rid}/decline", json={})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "reason_code"]  # issue 20: a code is required
    response = await client.post(
        f"/referrals/{rid}/decline", json={"reason_code": "other", "reason": "x", "patient": "extra"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "patient"]

    assert (await client.post(f"/referrals/{rid}/accept")).status_code == 200
    response = await client.post(f"/referrals/{rid}/accept")
    assert response.status_code == 409
    assert "already accepted" in response.json()["detail"]

    assert (
        await client.post(
            f"/referrals/{rid}/decline",
            json={"reason_code": "not_appropriate_for_service", "reason": "after assessment"},
        )
    ).status_code == 200
    response = await client.post(f"/referrals/{rid}/complete")
    assert response.status_code == 409
    assert "respond to the re-routed referral" in response.json()["detail"]

    response = await client.post(f"/referrals/{uuid.uuid4()}/accept")
    assert response.status_code == 404
    response = await client.get("/referrals", params={"pcn": "nope"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "pcn"]


async def test_unanswered_referral_is_chased_once_by_escalation_across_a_restart(
    make_host: HostFactory, amqp_url: str, clock: FakeClock
) -> None:
    answered = call_triaged(Disposition.REFER)
    unanswered = call_triaged(Disposition.REFER)
    async with EventCapture(amqp_url, binding_key("case.escalated")) as capture:
        first = make_host()
        await first.start()
        for event in (answered, unanswered):
            await publish_event(amqp_url, event)
        ok = await _one_referral(first, call_id=answered.data.call_id)
        late = await _one_referral(first, call_id=unanswered.data.call_id)
        async with SqlReferralsUnitOfWork.begin(first.db) as uow:
            await accept_referral(AcceptReferral(ok.referral_id), uow, first.context)
        assert late.response_due_at is not None
        clock.now = late.response_due_at  # exactly due: not yet chased
        await watchdog_passes(first)
        assert (await _one_referral(first, referral_id=late.referral_id)).chased_at is None

        clock.now = late.response_due_at + timedelta(minutes=1)
        [chase] = await wait_events(capture, "case.escalated", 1, reason="referral_unanswered")
        await first.stop()

        clock.advance(timedelta(days=10))
        second = make_host()  # a restart on the same database
        await second.start()
        await watchdog_passes(second)
        await second.relay.run_once()
    # Raised once; the escalation ladder's climbs of it (nobody acknowledged it) are rung 1 and up.
    assert len([e for e in capture.of_type("case.escalated") if e["data"]["rung"] == 0]) == 1
    assert chase["data"]["referral_id"] == str(late.referral_id)
    assert chase["data"]["target"] == "practice_clinical_lead"
    assert chase["data"]["assigned_to"] == LEAD
    assert chase["practice_ods"] == PRACTICE
    after = await _one_referral(second, referral_id=late.referral_id)
    assert after.chase_event_id == uuid.UUID(chase["event_id"])
    async with second.db.read() as session:
        query = select(OutboxMessage.body).where(OutboxMessage.event_type == "case.escalated")
        staged = [json.loads(body)["data"]["rung"] for body in (await session.exec(query)).all()]
    assert staged.count(0) == 1  # the chase staged once; the ladder's climbs of it are rung 1 and up


async def test_open_referrals_come_in_pages_linked_by_a_cursor(
    referrals: ReferralsHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    events = [call_triaged(Disposition.REFER) for _ in range(3)]
    for event in events:
        await publish_event(amqp_url, event)

    async def all_made() -> bool:
        return len(await _referrals(referrals)) == 3

    await eventually(all_made, message="referrals not made")
    seen: list[str] = []
    first = await client.get("/referrals", params={"pcn": PCN, "limit": 2})
    assert first.status_code == 200, first.text
    seen += [r["referral_id"] for r in first.json()]
    assert len(seen) == 2
    assert 'rel="next"' in first.headers["Link"]
    last = await client.get(
        "/referrals", params={"pcn": PCN, "limit": 2, "cursor": first.headers["X-Next-Cursor"]}
    )
    seen += [r["referral_id"] for r in last.json()]
    assert "Link" not in last.headers  # the last page
    assert sorted(seen) == sorted(str(r.referral_id) for r in await _referrals(referrals))
    assert (await client.get("/referrals", params={"limit": 0})).status_code == 422
    assert (await client.get("/referrals", params={"cursor": "not-ours"})).status_code == 400
