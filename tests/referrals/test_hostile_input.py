"""Hostile input on a real broker and database (issue 20): coded declines, identifier-free text, sane dates.

A decline through the API needs a code; the free text beside it may hold no NHS number, date or control
character, and a refusal never repeats what was sent. Events with impossible instants are refused by
the contract and dead-lettered once; a DNA dated ahead of our clock still opens its follow-up at once.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from services.referrals.adapters.tables import DnaFollowUp, Referral
from services.referrals.bootstrap import ReferralsHost
from shared.contracts.codes import Disposition, NextStep
from shared.contracts.envelope import Envelope
from shared.contracts.routing import binding_key
from shared.contracts.v1 import ReferralDeclined, ReferralDeclinedData
from shared.messaging.consumer import REASON_HEADER
from shared.messaging.outbox import OutboxMessage
from tests.referrals.conftest import attended, call_triaged, dna, wait_events
from tests.support.amqp import EventCapture, eventually, get_all, publish_event, publish_raw
from tests.support.clock import MONDAY_10AM

pytestmark = pytest.mark.integration

NHS_NUMBER = "4474340116"


async def _referral(host: ReferralsHost) -> Referral:
    async def one() -> Referral | None:
        async with host.db.read() as session:
            return (await session.exec(select(Referral))).first()

    async def present() -> bool:
        return await one() is not None

    await eventually(present, message="no referral made")
    found = await one()
    assert found is not None
    return found


async def _count(host: ReferralsHost, table: Any) -> int:
    async with host.db.read() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def _staged(host: ReferralsHost, event_type: str) -> int:
    async with host.db.read() as session:
        query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.event_type == event_type)
        return int((await session.exec(query)).one())


async def _publish_altered(url: str, event: Envelope[Any], **changes: Any) -> None:
    """Publish `event` with fields changed after validation (what a hostile producer can send)."""
    body = event.model_dump(mode="json")
    for path, value in changes.items():
        target = body
        *parents, last = path.split("__")
        for part in parents:
            target = target[part]
        target[last] = value
    await publish_raw(
        url, json.dumps(body).encode(), routing_key=event.routing_key, message_id=str(event.event_id)
    )


@pytest.mark.parametrize(
    "reason",
    [
        NHS_NUMBER,
        "patient 447 434 0116 moved",
        "born 12/03/1984",
        "looks fine\u202eevil",
        "bell\x07",
        "x" * 100_000,
        4474340116,
    ],
    ids=["nhs-number", "spaced-nhs-number", "date-of-birth", "bidi-override", "control", "huge", "number"],
)
async def test_a_decline_whose_free_text_could_identify_or_deceive_is_refused_without_echoing_it(
    referrals: ReferralsHost, client: httpx.AsyncClient, amqp_url: str, reason: object
) -> None:
    await publish_event(amqp_url, call_triaged(Disposition.REFER))
    referral = await _referral(referrals)
    response = await client.post(
        f"/referrals/{referral.referral_id}/decline", json={"reason_code": "other", "reason": reason}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "reason"]
    text = response.text
    for leaked in (NHS_NUMBER, "447 434 0116", "1984", "\u202e", "x" * 50):
        assert leaked not in text
    assert await _staged(referrals, "referral.declined") == 0
    assert (await client.get(f"/referrals/{referral.referral_id}")).json()["status"] == "made"


async def test_a_decline_needs_a_known_code_and_a_refused_code_is_not_echoed(
    referrals: ReferralsHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    await publish_event(amqp_url, call_triaged(Disposition.REFER))
    referral = await _referral(referrals)
    url = f"/referrals/{referral.referral_id}/decline"
    missing = await client.post(url, json={"reason": "no capacity"})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "reason_code"]
    unknown = await client.post(url, json={"reason_code": "astrology-4474340116"})
    assert unknown.status_code == 422
    assert NHS_NUMBER not in unknown.text
    assert await _staged(referrals, "referral.declined") == 0


async def test_a_coded_decline_publishes_the_code_and_the_text_beside_it(
    referrals: ReferralsHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    await publish_event(amqp_url, call_triaged(Disposition.REFER))
    referral = await _referral(referrals)
    async with EventCapture(amqp_url, binding_key("referral.declined")) as capture:
        response = await client.post(
            f"/referrals/{referral.referral_id}/decline",
            json={"reason_code": "outside_catchment", "reason": "  lives in the next county "},
        )
        assert response.status_code == 200, response.text
        [declined] = await wait_events(capture, "referral.declined", 1)
    assert declined["data"]["reason_code"] == "outside_catchment"
    assert declined["data"]["reason"] == "lives in the next county"
    body = response.json()
    assert body["decline_reason_code"] == "outside_catchment"
    assert body["decline_reason"] == "outside_catchment: lives in the next county"


async def test_a_receiving_services_decline_holding_an_nhs_number_is_dead_lettered_and_changes_nothing(
    referrals: ReferralsHost, amqp_url: str
) -> None:
    await publish_event(amqp_url, call_triaged(Disposition.REFER))
    referral = await _referral(referrals)
    declined = ReferralDeclined.create(
        ReferralDeclinedData(referral_id=referral.referral_id, reason="placeholder"),
        producer="RX4/cmht",
        pcn_code=referral.pcn_code,
        practice_ods=referral.practice_ods,
        correlation_id=referral.correlation_id,
    )
    await _publish_altered(amqp_url, declined, data__reason=f"patient {NHS_NUMBER}")
    [dead] = await get_all(amqp_url, "referrals.on_referral_response.dlq", expect=1)
    assert NHS_NUMBER not in str(dead.headers[REASON_HEADER])
    assert (await _referral(referrals)).status == "made"
    assert await _count(referrals, Referral) == 1


async def test_attendance_and_dna_with_impossible_instants_are_dead_lettered_once(
    referrals: ReferralsHost, amqp_url: str
) -> None:
    far = "9999-12-31T00:00:00Z"
    in_five_years = (datetime.now(UTC) + timedelta(days=5 * 366)).isoformat()
    await _publish_altered(amqp_url, attended(NextStep.REFERRAL), occurred_at=in_five_years)
    await _publish_altered(amqp_url, dna(), occurred_at=far)
    await _publish_altered(amqp_url, dna(), occurred_at="0001-01-01T00:00:00Z")
    await _publish_altered(amqp_url, dna(), occurred_at=253402214400)  # a number read as Unix time
    await get_all(amqp_url, "referrals.on_appointment_attended.dlq", expect=1)
    dead = await get_all(amqp_url, "referrals.on_appointment_dna.dlq", expect=3)
    assert all(int(m.headers.get("x-delivery-count", 0) or 0) == 0 for m in dead)  # refused, not retried
    assert await _count(referrals, Referral) == 0
    assert await _count(referrals, DnaFollowUp) == 0


async def test_a_dna_dated_ahead_of_our_clock_for_an_appointment_we_never_heard_of_is_followed_up_now(
    referrals: ReferralsHost, amqp_url: str
) -> None:
    # Referrals hears of an appointment only through its outcome: every DNA is for an unknown appointment,
    # and a missed mental-health appointment must never vanish. A wrong future date must not postpone it.
    event = dna(occurred_at=MONDAY_10AM + timedelta(days=300))
    await publish_event(amqp_url, event)

    async def opened() -> bool:
        return await _count(referrals, DnaFollowUp) == 1

    await eventually(opened, message="no follow-up opened")
    async with referrals.db.read() as session:
        follow_up = (await session.exec(select(DnaFollowUp))).one()
    assert follow_up.appointment_id == event.data.appointment_id
    assert follow_up.opened_at == MONDAY_10AM
    assert follow_up.due_at == MONDAY_10AM + timedelta(days=2)
    assert uuid.UUID(str(follow_up.dna_event_id)) == event.event_id


async def test_a_decline_sent_again_with_its_idempotency_key_is_answered_once_and_reroutes_once(
    referrals: ReferralsHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    await publish_event(amqp_url, call_triaged(Disposition.REFER))
    referral = await _referral(referrals)
    url, body = f"/referrals/{referral.referral_id}/decline", {"reason_code": "service_unavailable"}
    headers = {"Idempotency-Key": f"decline-{referral.referral_id}"}
    first = await client.post(url, json=body, headers=headers)
    again = await client.post(url, json=body, headers=headers)  # the client lost the first answer
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert await _staged(referrals, "referral.declined") == 1
    assert await _count(referrals, Referral) == 2  # one re-route, not two


JUNK: list[Any] = [
    {"clinician": 4474340116, "destination": "talking_therapies"},
    {"clinician": "x" * 100_000, "destination": "talking_therapies", "outcome": "rebooked"},
    {"clinician": "mhp.1\u202e", "outcome": "rebooked", "destination": 1e308},
    {"outcome": ["rebooked"], "clinician": {"a": {"a": {}}}, "signposted_to": True},
    [NHS_NUMBER],
    NHS_NUMBER,
]


@pytest.mark.parametrize("body", JUNK, ids=lambda b: type(b).__name__)
async def test_junk_bodies_on_every_write_route_get_a_4xx_that_repeats_nothing(
    referrals: ReferralsHost, client: httpx.AsyncClient, body: Any
) -> None:
    routes = [
        f"/referrals/{uuid.uuid4()}/decline",
        f"/referrals/{uuid.uuid4()}/redirect",
        f"/follow-ups/{uuid.uuid4()}/outcome",
    ]
    for route in routes:
        response = await client.post(route, json=body)
        assert 400 <= response.status_code < 500, (route, response.status_code)
        for leaked in (NHS_NUMBER, "x" * 50, "\u202e"):
            assert leaked not in response.text
