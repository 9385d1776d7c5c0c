"""Edges on a real broker and database: nowhere to refer, responses that can never apply."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlmodel import select

from services.referrals.adapters.tables import Referral
from shared.contracts.codes import Destination, Disposition
from shared.contracts.routing import binding_key
from shared.contracts.v1 import ReferralCompleted, ReferralCompletedData
from shared.messaging.consumer import REASON_HEADER
from tests.referrals.conftest import LEAD, PCN, PRACTICE, HostFactory, api, call_triaged, wait_events
from tests.support.amqp import EventCapture, eventually, get_all, publish_event
from tests.support.identity import MHP, Tokens

pytestmark = pytest.mark.integration

NO_CMHT = """
pcns:
  U00123:
    destinations:
      talking_therapies: [{code: tt-only, name: The only Talking Therapies}]
    practices:
      Y01234: {clinical_lead: lead.small}
"""


async def test_referral_with_no_service_of_its_kind_stays_open_for_the_clinical_lead(
    make_host: HostFactory, amqp_url: str, tmp_path: Path, tokens: Tokens
) -> None:
    directory = tmp_path / "directory.yaml"
    directory.write_text(NO_CMHT)
    host = make_host(directory_path=directory)
    await host.start()
    event = call_triaged(Disposition.REFER, destination=Destination.COMMUNITY_MENTAL_HEALTH_TEAM)
    async with EventCapture(amqp_url, binding_key("case.escalated"), binding_key("referral.made")) as capture:
        await publish_event(amqp_url, event)
        [escalated] = await wait_events(capture, "case.escalated", 1)
        await host.relay.run_once()
    assert capture.of_type("referral.made") == []  # nothing was sent anywhere
    assert escalated["data"]["reason"] == "bounced_referral"
    assert escalated["data"]["assigned_to"] == "lead.small"
    async with api(host, tokens.user(MHP)) as http:
        [listed] = (await http.get("/referrals", params={"pcn": PCN, "practice": PRACTICE})).json()
    assert listed["referral_id"] == escalated["data"]["referral_id"]
    assert listed["status"] == "unplaced"
    assert listed["needs_clinical_lead"] is True
    assert listed["destination_service"] is None


async def test_a_response_that_can_never_apply_is_dead_lettered_with_its_reason(
    make_host: HostFactory, amqp_url: str
) -> None:
    host = make_host()
    await host.start()
    event = call_triaged(Disposition.REFER)
    await publish_event(amqp_url, event)

    async def referral() -> Referral | None:
        async with host.db.read() as session:
            return (await session.exec(select(Referral))).first()

    async def made() -> bool:
        return await referral() is not None

    await eventually(made)
    existing = await referral()
    assert existing is not None

    def completed(referral_id: uuid.UUID) -> ReferralCompleted:
        return ReferralCompleted.create(
            ReferralCompletedData(referral_id=referral_id),
            producer="RX4/cmht",
            pcn_code=PCN,
            practice_ods=PRACTICE,
            correlation_id=event.correlation_id,
        )

    await publish_event(amqp_url, completed(uuid.uuid4()))  # never made here
    await publish_event(amqp_url, completed(existing.referral_id))  # never accepted
    dead = await get_all(amqp_url, "referrals.on_referral_response.dlq", expect=2)
    reasons = {str(m.headers[REASON_HEADER]) for m in dead}
    assert reasons == {
        "data.referral_id: no referral with this id was made by this service",
        "referral.completed cannot apply: the referral has not been accepted yet: "
        "accept it before completing it",
    }
    after = await referral()
    assert after is not None
    assert after.status == "made"


async def test_clinical_lead_redirects_an_unplaced_referral_to_another_kind_of_service(
    make_host: HostFactory, amqp_url: str, tmp_path: Path, tokens: Tokens
) -> None:
    directory = tmp_path / "directory.yaml"
    directory.write_text(NO_CMHT)
    host = make_host(directory_path=directory)
    await host.start()
    event = call_triaged(Disposition.REFER, destination=Destination.COMMUNITY_MENTAL_HEALTH_TEAM)
    async with (
        EventCapture(amqp_url, binding_key("referral.made")) as capture,
        api(host, tokens.user(LEAD)) as http,  # the practice's clinical lead, listing their practice
    ):
        await publish_event(amqp_url, event)

        async def listed() -> list[dict[str, object]]:
            response = await http.get("/referrals")
            rows: list[dict[str, object]] = response.json()
            return rows

        async def one_listed() -> bool:
            return len(await listed()) == 1

        await eventually(one_listed)
        [unplaced] = await listed()
        url = f"/referrals/{unplaced['referral_id']}/redirect"

        refused = await http.post(url, json={"destination": "community_mental_health_team"})
        assert refused.status_code == 409
        assert "no community_mental_health_team service left to try" in refused.json()["detail"]
        # The redirecting clinician is the token's user: a body naming one is refused, not believed.
        bad = await http.post(url, json={"destination": "talking_therapies", "clinician": "lead.small"})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["body", "clinician"]

        done = await http.post(url, json={"destination": "talking_therapies"})
        assert done.status_code == 201, done.text
        again = await http.post(url, json={"destination": "talking_therapies"})
        assert again.status_code == 409
        [made] = await wait_events(capture, "referral.made", 1)
        [still_open] = await listed()
        old = (await http.get(f"/referrals/{unplaced['referral_id']}")).json()
    assert done.json()["destination_service"] == "tt-only"
    assert made["data"]["previous_referral_id"] == unplaced["referral_id"]
    assert made["data"]["destination"] == "talking_therapies"
    assert still_open["referral_id"] == done.json()["referral_id"]
    assert (old["status"], old["rerouted_to"]) == ("redirected", done.json()["referral_id"])
    assert old["redirected_by"] == LEAD
    async with host.db.read() as session:
        row = await session.get(Referral, uuid.UUID(str(unplaced["referral_id"])))
    assert row is not None
    assert row.redirected_by == LEAD
