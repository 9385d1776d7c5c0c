"""DNA follow-up on a real broker and database: deadlines, repeated DNAs, outcomes, overdue escalation."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from services.referrals.adapters.tables import DnaEpisode, DnaFollowUp
from services.referrals.bootstrap import ReferralsHost
from shared.contracts.routing import binding_key
from tests.referrals.conftest import LEAD, PCN, HostFactory, api, dna, wait_events, watchdog_passes
from tests.support.amqp import EventCapture, eventually, publish_event, queue_depth
from tests.support.clock import MONDAY_10AM, FakeClock
from tests.support.identity import MHP, Tokens

pytestmark = pytest.mark.integration

QUEUE = "referrals.on_appointment_dna"


async def _follow_ups(host: ReferralsHost) -> list[DnaFollowUp]:
    async with host.db.read() as session:
        return list((await session.exec(select(DnaFollowUp))).all())


async def _follow_up(host: ReferralsHost, appointment_id: uuid.UUID) -> DnaFollowUp:
    async def present() -> bool:
        return any(f.appointment_id == appointment_id for f in await _follow_ups(host))

    await eventually(present, message="no follow-up opened")
    [found] = [f for f in await _follow_ups(host) if f.appointment_id == appointment_id]
    return found


async def _drained(url: str) -> None:
    async def empty() -> bool:
        return await queue_depth(url, QUEUE) == 0

    await eventually(empty)


async def test_dna_opens_one_follow_up_with_its_contact_deadline_even_when_delivered_twice(
    referrals: ReferralsHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    event = dna()
    await publish_event(amqp_url, event)
    await publish_event(amqp_url, event)
    await publish_event(amqp_url, event.model_copy(update={"event_id": uuid.uuid4()}))
    follow_up = await _follow_up(referrals, event.data.appointment_id)
    await _drained(amqp_url)
    assert len(await _follow_ups(referrals)) == 1
    assert follow_up.due_at == MONDAY_10AM + timedelta(days=2)  # two working days
    assert follow_up.correlation_id == event.correlation_id
    async with referrals.db.read() as session:
        episode = await session.get(DnaEpisode, event.correlation_id)
    assert episode is not None
    assert episode.dna_count == 1
    [listed] = (await client.get("/follow-ups", params={"pcn": PCN})).json()
    assert listed["follow_up_id"] == str(follow_up.follow_up_id)
    assert listed["status"] == "open"


async def test_second_dna_in_one_episode_notifies_the_gp_once(
    referrals: ReferralsHost, amqp_url: str
) -> None:
    episode = uuid.uuid4()
    first, second, third = (dna(correlation_id=episode) for _ in range(3))
    other_episode = dna()
    async with EventCapture(amqp_url, binding_key("case.escalated")) as capture:
        for event in (first, other_episode, second, second):
            await publish_event(amqp_url, event)
        [notice] = await wait_events(capture, "case.escalated", 1, reason="repeated_dna")
        await publish_event(amqp_url, third)  # a third DNA: the GP already knows
        await _follow_up(referrals, third.data.appointment_id)
        await _drained(amqp_url)
        await referrals.relay.run_once()
    assert len(capture.of_type("case.escalated")) == 1
    assert notice["data"]["target"] == "gp"
    assert notice["data"]["appointment_id"] == str(second.data.appointment_id)
    assert notice["correlation_id"] == str(episode)
    assert notice["causation_id"] == str(second.event_id)
    assert len(await _follow_ups(referrals)) == 4


async def test_overdue_follow_up_is_escalated_once_across_a_restart(
    make_host: HostFactory, amqp_url: str, clock: FakeClock, tokens: Tokens
) -> None:
    overdue = dna()
    done_in_time = dna()
    async with EventCapture(
        amqp_url, binding_key("case.escalated"), binding_key("dna.followed_up")
    ) as capture:
        first = make_host()
        await first.start()
        await publish_event(amqp_url, overdue)
        await publish_event(amqp_url, done_in_time)
        late = await _follow_up(first, overdue.data.appointment_id)
        on_time = await _follow_up(first, done_in_time.data.appointment_id)
        async with api(first, tokens.user(MHP)) as http:
            response = await http.post(
                f"/follow-ups/{on_time.follow_up_id}/outcome",
                json={"outcome": "rebooked"},
            )
        assert response.status_code == 200, response.text
        clock.now = late.due_at  # exactly due: not yet overdue
        await watchdog_passes(first)
        assert (await _follow_up(first, overdue.data.appointment_id)).escalated_at is None

        clock.now = late.due_at + timedelta(seconds=1)
        [escalated] = await wait_events(capture, "case.escalated", 1, reason="follow_up_overdue")
        await first.stop()

        clock.advance(timedelta(days=5))
        second = make_host()  # restarted on the same database: the state is there, not in memory
        await second.start()
        await watchdog_passes(second)
        await second.relay.run_once()
        await wait_events(capture, "dna.followed_up", 1)
    # Raised once; the escalation ladder's climbs of it (nobody acknowledged it) are rung 1 and up.
    assert len([e for e in capture.of_type("case.escalated") if e["data"]["rung"] == 0]) == 1
    assert escalated["data"]["appointment_id"] == str(overdue.data.appointment_id)
    assert escalated["data"]["target"] == "practice_clinical_lead"
    assert escalated["data"]["assigned_to"] == LEAD
    assert escalated["data"]["due_at"].startswith(late.due_at.isoformat()[:19])
    after = await _follow_up(second, overdue.data.appointment_id)
    assert after.escalation_event_id == uuid.UUID(escalated["event_id"])
    assert after.status == "open"  # escalated, still waiting for its outcome


async def test_follow_up_outcomes_are_published_with_signposting_and_safeguarding_escalation(
    referrals: ReferralsHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    signposted, safeguarding, discharged = dna(), dna(), dna()
    for event in (signposted, safeguarding, discharged):
        await publish_event(amqp_url, event)
    rows = {
        e.data.appointment_id: await _follow_up(referrals, e.data.appointment_id)
        for e in (signposted, safeguarding, discharged)
    }
    url = "/follow-ups/{}/outcome"
    async with EventCapture(
        amqp_url,
        binding_key("dna.followed_up"),
        binding_key("signpost.recorded"),
        binding_key("case.escalated"),
    ) as capture:
        bad = await client.post(
            url.format(rows[signposted.data.appointment_id].follow_up_id),
            json={"outcome": "contacted_and_signposted"},
        )
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["body", "signposted_to"]
        bad = await client.post(
            url.format(rows[signposted.data.appointment_id].follow_up_id),
            json={"outcome": "phoned"},
        )
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["body", "outcome"]

        ok = await client.post(
            url.format(rows[signposted.data.appointment_id].follow_up_id),
            json={
                "outcome": "contacted_and_signposted",
                "signposted_to": "voluntary_sector",
            },
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["recorded_by"] == MHP  # the token's user, not anything the body said
        for event, outcome in ((safeguarding, "safeguarding_escalation"), (discharged, "discharged_to_gp")):
            ok = await client.post(
                url.format(rows[event.data.appointment_id].follow_up_id),
                json={"outcome": outcome},
            )
            assert ok.status_code == 200, ok.text
        again = await client.post(
            url.format(rows[discharged.data.appointment_id].follow_up_id),
            json={"outcome": "rebooked"},
        )
        assert again.status_code == 409
        assert "already recorded as discharged_to_gp" in again.json()["detail"]
        missing = await client.post(url.format(uuid.uuid4()), json={"outcome": "rebooked"})
        assert missing.status_code == 404

        done = await wait_events(capture, "dna.followed_up", 3)
        [sp] = await wait_events(capture, "signpost.recorded", 1)
        [sg] = await wait_events(capture, "case.escalated", 1, reason="safeguarding")
    assert {(d["data"]["appointment_id"], d["data"]["outcome"]) for d in done} == {
        (str(signposted.data.appointment_id), "contacted_and_signposted"),
        (str(safeguarding.data.appointment_id), "safeguarding_escalation"),
        (str(discharged.data.appointment_id), "discharged_to_gp"),
    }
    assert all(d["producer"] == "RMH/referrals" for d in done)
    assert sp["data"]["destination"] == "voluntary_sector"
    assert sp["correlation_id"] == str(signposted.correlation_id)
    assert sg["data"]["appointment_id"] == str(safeguarding.data.appointment_id)
    assert sg["data"]["target"] == "practice_clinical_lead"
    assert (await client.get("/follow-ups", params={"pcn": PCN})).json() == []
