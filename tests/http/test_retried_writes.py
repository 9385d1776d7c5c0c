"""A client that lost a response and sends the request again changes nothing (issue 20).

Through each service's real HTTP app (`ServiceHost.http_app`, so the spine's idempotency middleware
included), on a real broker and database: a retried triage decision and a retried direct booking with
the same Idempotency-Key answer as the first time and publish no second event.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from services.booking.bootstrap import build_host as build_booking
from services.triage.bootstrap import build_host as build_triage
from services.triage.settings import TriageSettings
from shared.contracts.codes import Modality, SessionPeriod
from shared.service import ServiceHost
from tests.booking.conftest import HOME, NOW, PCN, TODAY, booking_settings, entry, load
from tests.support.amqp import EventCapture, eventually, publish_event
from tests.support.clock import MONDAY_10AM
from tests.support.factories import call_received
from tests.support.identity import MHP, STAFF, Tokens

pytestmark = pytest.mark.integration


async def _client(host: ServiceHost, headers: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    app = host.http_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        base_url = f"http://{host.name}"
        async with httpx.AsyncClient(transport=transport, base_url=base_url, headers=headers) as client:
            yield client


@pytest.fixture
async def triage(
    amqp_url: str, make_database_url: Callable[[str], str], tokens: Tokens
) -> AsyncIterator[httpx.AsyncClient]:
    settings = TriageSettings(
        rabbitmq_url=amqp_url, database_url=make_database_url("triage"), relay_poll_seconds=0.2
    )
    async for client in _client(build_triage(settings, clock=lambda: MONDAY_10AM), tokens.user(MHP)):
        yield client


@pytest.fixture
async def booking(
    amqp_url: str, make_database_url: Callable[[str], str], tokens: Tokens
) -> AsyncIterator[tuple[httpx.AsyncClient, ServiceHost]]:
    host = build_booking(booking_settings(amqp_url, make_database_url("booking")), clock=lambda: NOW)
    async for client in _client(host, tokens.user(STAFF)):
        yield client, host


async def test_a_retried_decision_with_the_same_key_publishes_one_call_triaged(
    triage: httpx.AsyncClient, amqp_url: str
) -> None:
    call = call_received(occurred_at=MONDAY_10AM)
    async with EventCapture(amqp_url, "call.triaged.#") as capture:
        await publish_event(amqp_url, call)

        async def listed() -> bool:
            return (await triage.get(f"/calls/{call.data.call_id}")).status_code == 200

        await eventually(listed, message="the call never reached the worklist")
        decision = {"triage_code": "D"}
        headers = {"Idempotency-Key": "decision-7f3a"}
        first = await triage.post(f"/calls/{call.data.call_id}/decision", json=decision, headers=headers)
        again = await triage.post(f"/calls/{call.data.call_id}/decision", json=decision, headers=headers)
        assert first.status_code == 201
        assert (again.status_code, again.json()) == (first.status_code, first.json())
        assert again.headers["idempotent-replayed"] == "true"
        await capture.wait_for(1)
        await asyncio.sleep(1.0)  # time for a second event to be relayed, if one had been staged
        assert len(capture.of_type("call.triaged")) == 1


async def test_a_retried_direct_booking_with_the_same_key_books_one_appointment(
    booking: tuple[httpx.AsyncClient, ServiceHost], amqp_url: str
) -> None:
    client, host = booking
    await load(host, entry(day=TODAY, period=SessionPeriod.AM, modalities=(Modality.TELEPHONE,)))
    body = {
        "pcn_code": PCN,
        "practice_ods": HOME,
        "starts_at": f"{TODAY.isoformat()}T08:00:00+00:00",
        "modality": "telephone",
    }
    async with EventCapture(amqp_url, "appointment.#") as capture:
        headers = {"Idempotency-Key": "practice-booking-0042"}
        first = await client.post("/appointments", json=body, headers=headers)
        again = await client.post("/appointments", json=body, headers=headers)
        assert first.status_code == 201, first.text
        assert (again.status_code, again.json()) == (201, first.json())
        await capture.wait_for(1)
        await asyncio.sleep(1.0)
        assert len(capture.of_type("appointment.booked")) == 1
        # A new request (new key) for the same slot is a second booking attempt, and finds it taken.
        other = await client.post(
            "/appointments", json=body, headers={"Idempotency-Key": "practice-booking-0043"}
        )
        assert other.status_code == 409
