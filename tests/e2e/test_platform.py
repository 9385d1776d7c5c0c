"""The whole platform, every service its own OS process, on a real broker: 200 calls from practice systems
flow through triage and booking to metrics, exactly once each, across a SIGKILL of the triage service.

On a broker the tests can drive with rabbitmqctl the platform runs as `mhp up` runs it: the definitions
imported, every service logged in as its own user and every practice as its own, so the broker proves
each sender (and refuses a practice publishing for another); a broker given only by URL is impersonated.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aio_pika
import aiormq
import httpx
import pytest

from mhp.broker import VhostAdmin, free_port
from mhp.definitions import discover_services
from mhp.demo import DEMO_PRACTICES, load_demo_rota, synthetic_call
from mhp.platform import SERVICES, Platform
from mhp.practice_feed import PracticeLogin, impersonated_logins
from mhp.provisioning import BrokerLogins, broker_ctl, connection_users, deprovision, provision
from shared.contracts.codes import APPOINTMENT_DISPOSITIONS, Disposition
from shared.contracts.routing import EXCHANGE
from shared.contracts.v1 import CallReceived
from shared.http.paging import MAX_LIMIT
from shared.messaging.senders import practice_user, service_user
from tests.support.amqp import eventually, queue_depth
from tests.support.identity import MHP, PCN_MANAGER, Tokens

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

CALLS = 200
PCN = "U00123"


def _vhost(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


@pytest.fixture
def logins(
    broker: tuple[str, VhostAdmin | None], amqp_url: str, tmp_path: Path
) -> Iterator[BrokerLogins | None]:
    """This test's vhost provisioned as `mhp up` provisions its broker, or None where no rabbitmqctl can."""
    ctl = broker_ctl(broker[1])
    if ctl is None:
        yield None
        return
    provisioned = provision(
        ctl, amqp_url, vhost=_vhost(amqp_url), run_dir=tmp_path, pcn_code=PCN, practices=DEMO_PRACTICES
    )
    try:
        yield provisioned
    finally:
        deprovision(ctl, provisioned)


def _practice_logins(amqp_url: str, logins: BrokerLogins | None) -> dict[str, PracticeLogin]:
    if logins is None:
        return impersonated_logins(amqp_url, DEMO_PRACTICES)
    return logins.practice_logins(DEMO_PRACTICES)


@pytest.fixture
def platform(amqp_url: str, logins: BrokerLogins | None, tmp_path: Path) -> Iterator[Platform]:
    fast = {f"{s.env_prefix}RELAY_POLL_SECONDS": "0.2" for s in SERVICES}
    running = Platform(
        amqp_url=amqp_url,
        run_dir=tmp_path,
        ports={s.name: free_port() for s in SERVICES},
        extra_env=fast,
        service_urls=logins.service_urls([s.name for s in SERVICES]) if logins else {},
    )
    running.start()
    try:
        running.wait_ready(timeout=120)
        yield running
    finally:
        running.stop()


async def _publish_as_practice_systems(logins: dict[str, PracticeLogin], events: list[CallReceived]) -> None:
    """Each practice's calls through its own login, stamped with its user_id."""
    by_practice: dict[str, list[CallReceived]] = defaultdict(list)
    for event in events:
        by_practice[str(event.practice_ods)].append(event)
    for practice, calls in by_practice.items():
        await _publish_as_a_practice_system(logins[practice], calls)


async def _publish_as_a_practice_system(login: PracticeLogin, events: list[CallReceived]) -> None:
    """Plain aio-pika, as a practice's telephony system would publish: persistent, confirmed, mandatory,
    declaring nothing (its user may not), its login as the AMQP user_id."""
    connection = await aio_pika.connect(login.url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(EXCHANGE, ensure=False)
        for event in events:
            await exchange.publish(
                aio_pika.Message(
                    event.model_dump_json().encode(),
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    message_id=str(event.event_id),
                    correlation_id=str(event.correlation_id),
                    type=event.event_type,
                    user_id=login.user_id,
                ),
                routing_key=event.routing_key,
                mandatory=True,
            )


def _archived(metrics_db: Path) -> list[tuple[str, str, str]]:
    """(event_type, event_id, data) of every event the metrics service archived."""
    with sqlite3.connect(f"file:{metrics_db}?mode=ro", uri=True, timeout=30) as connection:
        rows = connection.execute("SELECT event_type, event_id, data FROM metrics_archive").fetchall()
    return [(str(t), str(uuid.UUID(str(i))), str(d)) for t, i, d in rows]


async def _worklist(client: httpx.AsyncClient, triage_url: str) -> list[dict[str, object]]:
    response = await client.get(f"{triage_url}/worklist", params={"pcn": PCN, "limit": MAX_LIMIT})
    response.raise_for_status()
    entries: list[dict[str, object]] = response.json()
    return entries


async def _decide(client: httpx.AsyncClient, triage_url: str, call_id: str, code: str) -> str:
    response = await client.post(f"{triage_url}/calls/{call_id}/decision", json={"triage_code": code})
    assert response.status_code == 201, response.text
    disposition: str = response.json()["disposition"]
    return disposition


async def test_200_calls_reach_metrics_exactly_once_through_every_service_across_a_crash(
    platform: Platform, amqp_url: str, logins: BrokerLogins | None, tmp_path: Path, tokens: Tokens
) -> None:
    triage_url = platform.service("triage").url
    await load_demo_rota(platform.service("booking").url, tokens.issuer, weeks=2)
    rng = random.Random(2026)
    calls = [synthetic_call(rng) for _ in range(CALLS)]
    codes = rng.choices("CDEFG", k=CALLS)
    await _publish_as_practice_systems(_practice_logins(amqp_url, logins), calls)

    async with httpx.AsyncClient(timeout=30, headers=tokens.user(MHP)) as client:
        waiting: list[dict[str, object]] = []

        async def all_on_the_worklist() -> bool:
            waiting[:] = await _worklist(client, triage_url)
            return len(waiting) == CALLS

        await eventually(
            all_on_the_worklist, timeout=120, interval=0.5, message=lambda: f"{len(waiting)} listed"
        )
        dispositions: dict[str, str] = {}
        for entry, code in zip(waiting[: CALLS // 2], codes, strict=False):
            dispositions[str(entry["call_id"])] = await _decide(
                client, triage_url, str(entry["call_id"]), code
            )

        # A crash: no graceful shutdown, whatever was in flight is redelivered or swept from the outbox.
        platform.kill("triage")
        platform.restart("triage")
        await asyncio.to_thread(platform.wait_ready, 120, ("triage",))
        for entry, code in zip(waiting[CALLS // 2 :], codes[CALLS // 2 :], strict=True):
            dispositions[str(entry["call_id"])] = await _decide(
                client, triage_url, str(entry["call_id"]), code
            )
        assert await _worklist(client, triage_url) == []
        # Every decision is the signed-in MHP's: the token's user, whatever a client might have claimed.
        for call_id in dispositions:
            trail = (await client.get(f"{triage_url}/calls/{call_id}")).json()
            assert {d["clinician"] for d in trail["decisions"]} == {MHP}

    metrics_db = tmp_path / "metrics.db"
    needs_appointment = {c for c, d in dispositions.items() if Disposition(d) in APPOINTMENT_DISPOSITIONS}
    archived: list[tuple[str, str, str]] = []

    def booking_outcomes() -> Counter[str]:
        # Each call needing an appointment ends booked or waitlisted (the data names the call).
        return Counter(
            call_id
            for event_type, _, data in archived
            if event_type in ("appointment.booked", "appointment.waitlisted")
            for call_id in needs_appointment
            if call_id in data
        )

    def settled() -> bool:
        archived[:] = _archived(metrics_db)
        by_type = Counter(event_type for event_type, _, _ in archived)
        return (
            by_type["call.received"] == CALLS
            and by_type["call.triaged"] == CALLS
            and len(booking_outcomes()) == len(needs_appointment)
        )

    await eventually(
        settled,
        timeout=180,
        interval=1.0,
        message=lambda: f"metrics saw {Counter(t for t, _, _ in archived)}",
    )
    received = [event_id for event_type, event_id, _ in archived if event_type == "call.received"]
    assert sorted(received) == sorted(str(c.event_id) for c in calls)  # each call once, none lost
    assert all(count == 1 for count in booking_outcomes().values())  # one booking outcome per call

    # The archive is coded fields only: the deciding clinician (checked above through triage) is not kept.
    assert not any(
        "clinician" in json.loads(data) for event_type, _, data in archived if event_type == "call.triaged"
    )

    async with httpx.AsyncClient(timeout=30, headers=tokens.user(PCN_MANAGER)) as client:
        month = calls[0].occurred_at.strftime("%Y-%m")
        response = await client.get(
            f"{platform.service('metrics').url}/reports/monthly", params={"pcn": PCN, "month": month}
        )
    assert response.status_code == 200, response.text
    response_times = response.json()["pcn_total"]["response_times"]
    assert sum(figures["triaged"] for figures in response_times.values()) == CALLS
    assert Counter({code: figures["triaged"] for code, figures in response_times.items()}) == Counter(codes)

    logs = "".join(service.log_path.read_text() for service in platform.running)
    leaked = [c.data.patient.nhs_number for c in calls if c.data.patient.nhs_number in logs]
    assert leaked == []
    # Every sender passed every consumer's check: nothing anywhere was dead-lettered.
    assert await _dead_letter_depths(amqp_url) == {}


async def _dead_letter_depths(amqp_url: str) -> dict[str, int]:
    """The dead-letter queues holding anything, with their depths (the test's login reads any queue)."""
    queues = [spec.dead_letter_queue for service in discover_services() for spec in service.queues]
    depths = {queue: await queue_depth(amqp_url, queue) for queue in queues}
    return {queue: depth for queue, depth in depths.items() if depth}


async def test_the_broker_proves_every_sender_in_the_running_platform(
    platform: Platform,
    broker: tuple[str, VhostAdmin | None],
    amqp_url: str,
    logins: BrokerLogins | None,
    tokens: Tokens,
) -> None:
    """Each service is connected as its own user, and a practice publishing for another is refused."""
    if logins is None:
        pytest.skip("a broker given only by URL (or a container) is not provisioned here")
    ctl = broker_ctl(broker[1])
    assert ctl is not None
    users = connection_users(ctl, _vhost(amqp_url))
    # Publisher and consumer connections, each service as itself: no shared or guest login.
    assert sorted(set(users)) == sorted(service_user(s.name) for s in SERVICES)
    assert len(users) >= 2 * len(SERVICES)

    practice, neighbour = DEMO_PRACTICES[0], DEMO_PRACTICES[1]
    own_login = logins.practice_logins([practice])[practice]
    rng = random.Random(12)
    genuine = synthetic_call(rng, practices=[practice])
    for_neighbour = synthetic_call(rng, practices=[neighbour])  # the neighbour's routing key
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused, match="ACCESS_REFUSED"):
        await _publish_as_a_practice_system(own_login, [for_neighbour])
    # The same login, for its own practice, is carried through the platform and applied.
    await _publish_as_a_practice_system(own_login, [genuine])
    async with httpx.AsyncClient(timeout=30, headers=tokens.user(MHP)) as client:
        listed: list[dict[str, object]] = []

        async def genuine_listed() -> bool:
            listed[:] = await _worklist(client, platform.service("triage").url)
            return any(e["call_id"] == str(genuine.data.call_id) for e in listed)

        await eventually(genuine_listed, timeout=60, interval=0.5, message="the practice's own call")
    assert str(for_neighbour.data.call_id) not in {str(e["call_id"]) for e in listed}
    assert practice_user(practice) not in users  # a practice never enters the trust's vhost
    assert await _dead_letter_depths(amqp_url) == {}
