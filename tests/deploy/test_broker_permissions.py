"""On a real broker with the generated definitions imported: every user can send only what it may, as itself.

Each service user, a PCN user and a practice user try every event type and routing key they must not
publish, another practice's and another PCN's keys, other organisations' queues (consume, get, passive
declare), a binding with `#`, and a forged `user_id`: the broker refuses all of them. A message the broker
let through but whose body names another sender is dead-lettered by the consumer and changes nothing.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import aio_pika
import aiormq
import pytest
from aio_pika.abc import AbstractConnection
from sqlmodel import func, select

from mhp.broker import VhostAdmin, with_vhost
from mhp.definitions import (
    ADMIN_USER,
    build_definitions,
    discover_services,
    ingress_vhost,
    pcn_user,
    practice_user,
    render,
    service_user,
)
from mhp.provisioning import BrokerLogins
from shared.contracts.registry import REGISTRY
from shared.contracts.routing import EXCHANGE
from shared.messaging.consumer import REASON_HEADER
from shared.messaging.senders import PUBLISHED_BY, sender_of
from tests.support.amqp import eventually
from tests.support.factories import call_received

pytestmark = pytest.mark.integration

PCN, OTHER_PCN = "U00123", "U00999"
PRACTICE, NEIGHBOUR, FAR_PRACTICE = "Y01234", "Y01235", "Y09999"
PRACTICES = {PCN: [PRACTICE, NEIGHBOUR], OTHER_PCN: [FAR_PRACTICE]}
SERVICES = ("triage", "booking", "referrals", "metrics")
# RabbitMQ answers connection.open to a vhost the user has no permissions on with connection.close.
LOGIN_REFUSED = (aiormq.exceptions.AMQPConnectionError, aiormq.exceptions.InvalidFrameError)
EVENT_TYPES = sorted({event_type for event_type, _ in REGISTRY})


def _as(url: str, user: str, password: str, vhost: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
    path = f"/{quote(vhost, safe='')}" if vhost is not None else parts.path
    return urlunsplit(parts._replace(netloc=netloc, path=path, query=""))


class Broker:
    """The provisioned test vhost: a URL for any user, into the trust's vhost or the user's ingress."""

    def __init__(self, url: str, passwords: dict[str, str], ctl: Any) -> None:
        self.url = url
        self.vhost = unquote(urlsplit(url).path.lstrip("/"))
        self.passwords = passwords
        self._ctl = ctl
        parts = urlsplit(url)
        # Where each user logs in, exactly as `mhp up` and the e2e platform compute it.
        self._logins = BrokerLogins(f"{parts.scheme}://{parts.hostname}:{parts.port}", self.vhost, passwords)

    def queues(self, user: str) -> list[str]:
        """The queue names in `user`'s ingress vhost, as the operator sees them."""
        out = self._ctl("list_queues", "-p", ingress_vhost(user, self.vhost), "name", "--no-table-headers")
        return [line.strip() for line in out.stdout.decode().splitlines() if line.strip()]

    def url_for(self, user: str) -> str:
        """Where `user` publishes: the trust's vhost for services, its own ingress vhost otherwise."""
        return self._logins.url_for(user)

    def trust_url(self, user: str) -> str:
        return _as(self.url, user, self.passwords[user], self.vhost)


@pytest.fixture(scope="module")
def provisioned(
    broker: tuple[str, VhostAdmin | None], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Broker]:
    """Once for the module (an import and its clean-up take seconds): a vhost of its own, provisioned."""
    url, node = broker
    ctl = getattr(node, "ctl", None)
    if node is None or ctl is None:
        pytest.skip("the broker fixture gave no rabbitmqctl-capable node (URL, container or system broker)")
    vhost = f"perm-{uuid.uuid4().hex[:8]}"
    node.add_vhost(vhost)
    amqp_url = with_vhost(url, vhost)
    tmp_path = tmp_path_factory.mktemp("definitions")
    users = [
        ADMIN_USER,
        *(service_user(s) for s in SERVICES),
        service_user("booking", PCN),
        *(pcn_user(p) for p in PRACTICES),
        *(practice_user(o) for practices in PRACTICES.values() for o in practices),
    ]
    passwords = {user: f"test-{user}-pw" for user in users}
    definitions = build_definitions(
        discover_services(),
        list(PRACTICES),
        practices=PRACTICES,
        confined_booking=[PCN],
        vhost=vhost,
        passwords=passwords,
    )
    path = tmp_path / "definitions.json"
    path.write_text(render(definitions))
    path.chmod(0o644)
    result = ctl("import_definitions", str(path), check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    try:
        yield Broker(amqp_url, passwords, ctl)
    finally:
        for user in users:
            ctl("delete_user", user, check=False)
        for entry in definitions["vhosts"]:
            ctl("delete_vhost", entry["name"], check=False)


@contextlib.asynccontextmanager
async def _connected(url: str) -> AsyncIterator[AbstractConnection]:
    connection = await aio_pika.connect(url)
    try:
        yield connection
    finally:
        await connection.close()


async def _publish(connection: AbstractConnection, key: str, *, user_id: str | None = None) -> None:
    """One confirmed publish on a fresh channel; the broker's refusal surfaces as the channel's close."""
    channel = await connection.channel(publisher_confirms=True)
    exchange = await channel.get_exchange(EXCHANGE, ensure=False)
    await exchange.publish(aio_pika.Message(b"{}", message_id="m-1", user_id=user_id), routing_key=key)
    await channel.declare_exchange(EXCHANGE, passive=True)  # a round trip: a refusal arrives before it
    await channel.close()


async def _refused(connection: AbstractConnection, key: str, *, user_id: str | None = None) -> str:
    try:
        await _publish(connection, key, user_id=user_id)
    except (aiormq.exceptions.ChannelAccessRefused, aiormq.exceptions.ChannelPreconditionFailed) as exc:
        return type(exc).__name__
    return "accepted"


def _key(event_type: str, pcn: str = PCN, practice: str = PRACTICE) -> str:
    return f"{event_type}.v1.{pcn}.{practice}"


@pytest.mark.parametrize(
    "user", [*(service_user(s) for s in SERVICES), pcn_user(PCN), practice_user(PRACTICE)]
)
async def test_each_user_publishes_exactly_its_own_event_types(provisioned: Broker, user: str) -> None:
    sender = sender_of(user)
    assert sender is not None
    outcomes: dict[str, str] = {}
    async with _connected(provisioned.url_for(user)) as connection:
        for event_type in EVENT_TYPES:
            outcomes[event_type] = await _refused(connection, _key(event_type), user_id=user)
    allowed = {t for t in EVENT_TYPES if sender.publisher in PUBLISHED_BY[t]}
    assert {t for t, outcome in outcomes.items() if outcome == "accepted"} == allowed
    assert all(outcomes[t] == "ChannelAccessRefused" for t in set(EVENT_TYPES) - allowed)
    if user == service_user("metrics"):
        assert allowed == set()  # metrics never publishes


async def test_a_practice_is_confined_to_its_own_key_and_a_pcn_user_to_its_pcn(provisioned: Broker) -> None:
    practice = practice_user(PRACTICE)
    async with _connected(provisioned.url_for(practice)) as connection:
        assert await _refused(connection, _key("call.received"), user_id=practice) == "accepted"
        assert await _refused(connection, _key("call.received", practice=NEIGHBOUR)) == "ChannelAccessRefused"
        assert (
            await _refused(connection, _key("call.received", OTHER_PCN, FAR_PRACTICE))
            == "ChannelAccessRefused"
        )
        assert await _refused(connection, "call.received.v1.U00123.#") == "ChannelAccessRefused"
        assert await _refused(connection, "call.received.v2.U00123.Y01234") == "ChannelAccessRefused"
    pcn = pcn_user(PCN)
    async with _connected(provisioned.url_for(pcn)) as connection:
        assert (
            await _refused(connection, _key("call.received", practice=NEIGHBOUR), user_id=pcn) == "accepted"
        )
        assert (
            await _refused(connection, _key("call.received", OTHER_PCN, FAR_PRACTICE))
            == "ChannelAccessRefused"
        )
        # A practice not of its PCN under its own PCN's code: refused too (the definitions list them).
        outsider = _key("call.received", PCN, FAR_PRACTICE)
        assert await _refused(connection, outsider, user_id=pcn) == "ChannelAccessRefused"
    confined = service_user("booking", PCN)
    async with _connected(provisioned.url_for(confined)) as connection:
        assert await _refused(connection, _key("appointment.booked"), user_id=confined) == "accepted"
        other = _key("appointment.booked", OTHER_PCN, FAR_PRACTICE)
        assert await _refused(connection, other, user_id=confined) == "ChannelAccessRefused"


@pytest.mark.parametrize("user", [service_user("triage"), practice_user(PRACTICE), pcn_user(PCN)])
async def test_a_forged_user_id_is_refused_by_the_broker(provisioned: Broker, user: str) -> None:
    own_event = "call.triaged" if user == service_user("triage") else "call.received"
    async with _connected(provisioned.url_for(user)) as connection:
        for forged in (service_user("triage"), service_user("booking"), practice_user(NEIGHBOUR), ADMIN_USER):
            if forged != user:
                outcome = await _refused(connection, _key(own_event), user_id=forged)
                assert outcome == "ChannelPreconditionFailed", forged


@pytest.mark.parametrize("user", [practice_user(PRACTICE), pcn_user(PCN)])
async def test_practice_systems_cannot_reach_the_trusts_vhost_at_all(provisioned: Broker, user: str) -> None:
    """No consume, get or passive declare of a trust queue: the login to the trust's vhost is refused."""
    with pytest.raises(LOGIN_REFUSED):
        await aio_pika.connect(provisioned.trust_url(user))
    # Nor another practice's ingress, where a passive declare would show that practice's in-flight depth.
    neighbour = ingress_vhost(practice_user(NEIGHBOUR), provisioned.vhost)
    with pytest.raises(LOGIN_REFUSED):
        await aio_pika.connect(_as(provisioned.url, user, provisioned.passwords[user], neighbour))
    # The same login to its own ingress succeeds: the refusals above are about the vhost, not the password.
    await (await aio_pika.connect(provisioned.url_for(user))).close()


async def test_in_its_own_ingress_a_practice_can_declare_bind_or_read_nothing(provisioned: Broker) -> None:
    user = practice_user(PRACTICE)
    async with _connected(provisioned.url_for(user)) as connection:
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await (await connection.channel()).declare_queue("eavesdrop", durable=True)
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await (await connection.channel()).declare_exchange("mine", aio_pika.ExchangeType.TOPIC)
        # A topic exchange of its own to bind `#` to is refused above; the only queue here is the federation
        # link's, which carries this practice's own messages and nothing of anyone else's.
        assert [q.startswith("federation:") for q in provisioned.queues(user)] == [True]


@pytest.mark.parametrize("service", ["triage", "booking", "metrics"])
async def test_a_service_reads_only_its_own_queues_and_binds_nothing(
    provisioned: Broker, service: str
) -> None:
    user = service_user(service)
    other = "referrals.on_call_triaged" if service != "referrals" else "triage.on_call_received"
    own = next(spec.name for t in discover_services() if t.service == service for spec in t.queues)
    async with _connected(provisioned.url_for(user)) as connection:
        underlay = await (await connection.channel()).get_underlay_channel()
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await underlay.basic_get(other)
        underlay = await (await connection.channel()).get_underlay_channel()
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await underlay.queue_bind(own, EXCHANGE, routing_key="#")
        underlay = await (await connection.channel()).get_underlay_channel()
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await underlay.queue_declare("extra", durable=True)


async def test_a_practice_message_naming_another_sender_is_dead_lettered_and_changes_nothing(
    provisioned: Broker, make_database_url: Any
) -> None:
    from services.triage.adapters.tables import TriageCall
    from services.triage.bootstrap import build_host
    from services.triage.settings import TriageSettings

    settings = TriageSettings(
        rabbitmq_url=provisioned.trust_url(service_user("triage")),
        database_url=make_database_url("triage"),
        declare_topology=False,
    )
    host = build_host(settings)
    await host.start()
    try:
        practice = practice_user(PRACTICE)
        genuine = call_received()
        as_neighbour = call_received(producer=f"{NEIGHBOUR}/reception")  # its own key, a neighbour's name
        as_triage = call_received(producer="RMH/triage")  # its own key, the trust's name
        connection = await aio_pika.connect(provisioned.url_for(practice))
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(EXCHANGE, ensure=False)
            for event in (as_neighbour, as_triage, genuine):
                message = aio_pika.Message(
                    event.model_dump_json().encode(), message_id=str(event.event_id), user_id=practice
                )
                await exchange.publish(message, routing_key=event.routing_key)

        async def applied() -> bool:
            async with host.db.read() as session:
                return bool((await session.exec(select(func.count()).select_from(TriageCall))).one() >= 1)

        await eventually(applied, timeout=30.0, message="the genuine call never reached triage")
        admin = _as(provisioned.url, ADMIN_USER, provisioned.passwords[ADMIN_USER])
        forged = {str(as_neighbour.event_id), str(as_triage.event_id)}
        reasons: dict[str, str] = {}

        async def both_dead_lettered() -> bool:
            # Other tests' bare `{}` bodies also reach this queue (and its DLQ): look for ours only.
            async with _connected(admin) as connection:
                queue = await (await connection.channel()).get_queue("triage.on_call_received.dlq")
                while (message := await queue.get(fail=False)) is not None:
                    await message.ack()
                    event_id = json.loads(message.body).get("event_id")
                    if event_id in forged:
                        reasons[event_id] = str(message.headers[REASON_HEADER])
            return set(reasons) == forged

        await eventually(both_dead_lettered, timeout=30.0, message="the forged calls were not dead-lettered")
        assert set(reasons.values()) == {f"producer does not match the sender {practice}"}
        async with host.db.read() as session:
            rows = (await session.exec(select(TriageCall))).all()
        assert [row.call_id for row in rows] == [genuine.data.call_id]
    finally:
        await host.stop()
