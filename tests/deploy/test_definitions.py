"""The committed RabbitMQ definitions match the code, and their permissions confine users on a real broker."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import aio_pika
import aiormq
import pytest
from aio_pika.abc import AbstractIncomingMessage

from mhp.broker import RABBITMQ_LIB, LocalNode, VhostAdmin, rabbitmq_installed
from mhp.definitions import (
    ADMIN_USER,
    DEFAULT_VHOST,
    build_definitions,
    discover_services,
    hash_password,
    ingress_vhost,
    password_env_var,
    passwords_from_dir,
    passwords_from_env,
    pcn_routing_key_pattern,
    pcn_user,
    render,
    service_user,
)
from mhp.demo import DEMO_PCN, DEMO_PRACTICES
from shared.contracts.routing import EXCHANGE
from shared.service import ServiceHost
from tests.support.amqp import eventually

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "deploy" / "rabbitmq" / "definitions.json"
REGENERATE = "python -m mhp.definitions > deploy/rabbitmq/definitions.json"


def test_committed_definitions_equal_what_the_code_generates() -> None:
    practices = {DEMO_PCN: list(DEMO_PRACTICES)}
    generated = json.loads(render(build_definitions(discover_services(), [DEMO_PCN], practices=practices)))
    committed = json.loads(COMMITTED.read_text())
    assert committed == generated, f"deploy/rabbitmq/definitions.json is stale: run `{REGENERATE}`"


def test_committed_definitions_hold_no_password() -> None:
    for user in json.loads(COMMITTED.read_text())["users"]:
        assert "password_hash" not in user
        assert "password" not in user


def test_every_service_queue_has_its_dead_letter_queue_bound() -> None:
    definitions = build_definitions(discover_services(), [DEMO_PCN])
    queues = {q["name"]: q for q in definitions["queues"]}
    dlq_bindings = {
        (b["destination"], b["routing_key"])
        for b in definitions["bindings"]
        if b["source"] == "mhp.dead-letter"
    }
    consumer_queues = [name for name in queues if not name.endswith(".dlq")]
    assert consumer_queues, "no service queue was discovered"
    for name in consumer_queues:
        assert queues[name]["arguments"]["x-dead-letter-routing-key"] == name
        assert queues[f"{name}.dlq"]["arguments"] == {"x-queue-type": "quorum"}
        assert (f"{name}.dlq", name) in dlq_bindings


@pytest.mark.parametrize(
    ("routing_key", "allowed"),
    [
        ("call.received.v1.U00123.Y01234", True),
        ("appointment.attended.v1.U00123.Y01239", True),
        ("call.received.v1.U00999.Y09999", False),
        ("call.received.v1.U00123.#", False),
        ("call.received.v1.U00123.Y01234.extra", False),
        ("call.received.v1.U001234.Y01234", False),
        ("call.triaged.v1.U00123.Y01234", False),
        ("referral.accepted.v1.U00123.Y01234", False),
        ("call.received.v2.U00123.Y01234", False),
    ],
)
def test_pcn_routing_key_pattern_admits_only_practice_events_of_its_own_pcn(
    routing_key: str, allowed: bool
) -> None:
    assert bool(re.fullmatch(pcn_routing_key_pattern("U00123"), routing_key)) is allowed


def test_a_pcn_user_with_listed_practices_is_confined_to_them() -> None:
    pattern = pcn_routing_key_pattern("U00123", practices=["Y01234", "Y01235"])
    assert re.fullmatch(pattern, "call.received.v1.U00123.Y01235")
    assert not re.fullmatch(pattern, "call.received.v1.U00123.Y09999")
    with pytest.raises(ValueError, match="ODS code"):
        pcn_routing_key_pattern("U00123", practices=["Y0123|.*"])


def test_rejects_a_pcn_code_that_would_widen_the_pattern() -> None:
    with pytest.raises(ValueError, match="ODS code"):
        pcn_routing_key_pattern(".*")


def test_passwords_from_env_fails_closed_naming_the_missing_variable() -> None:
    env = {password_env_var("mhp-triage"): "s3cret"}
    with pytest.raises(SystemExit, match="RABBITMQ_PASSWORD_PCN_U00123"):
        passwords_from_env(["mhp-triage", "pcn-u00123"], env)
    assert passwords_from_env(["mhp-triage"], env) == {"mhp-triage": "s3cret"}


def test_passwords_from_dir_reads_one_file_per_user_and_fails_closed(tmp_path: Path) -> None:
    (tmp_path / "rabbitmq_password_mhp_triage").write_text("s3cret\n")
    (tmp_path / "rabbitmq_password_practice_y01234").write_text("")  # empty is missing, not a password
    assert passwords_from_dir(["mhp-triage"], tmp_path) == {"mhp-triage": "s3cret"}
    with pytest.raises(SystemExit, match="rabbitmq_password_practice_y01234"):
        passwords_from_dir(["mhp-triage", "practice-y01234"], tmp_path)


def test_every_user_but_the_admin_is_confined_by_a_topic_permission() -> None:
    """RabbitMQ leaves a user with no topic permission unconfined: every publishing user must have one."""
    definitions = build_definitions(
        discover_services(),
        [DEMO_PCN],
        practices={DEMO_PCN: ["Y01234"]},
        confined_booking=[DEMO_PCN],
        partners=["RXY"],
    )
    confined = {
        (t["user"], t["vhost"]) for t in definitions["topic_permissions"] if t["exchange"] == EXCHANGE
    }
    granted = {(p["user"], p["vhost"]) for p in definitions["permissions"] if p["user"] != ADMIN_USER}
    assert granted == confined
    assert {user for user, _ in granted} >= {
        "mhp-metrics",
        "mhp-booking-u00123",
        "practice-y01234",
        "partner-rxy",
    }
    partner = next(t for t in definitions["topic_permissions"] if t["user"] == "partner-rxy")
    assert re.fullmatch(partner["write"], "referral.accepted.v1.U00999.Y09999")
    assert not re.fullmatch(partner["write"], "referral.made.v1.U00999.Y09999")
    assert all(t["read"] == "^$" for t in definitions["topic_permissions"])  # nobody binds with any key


def test_dead_letter_queues_have_a_retention_limit_that_is_configurable() -> None:
    services = discover_services()
    default = build_definitions(services, [])["policies"]
    retention = next(p for p in default if p["name"] == "mhp-dead-letter-retention")
    assert retention["definition"] == {"message-ttl": 30 * 86_400_000, "max-length": 10_000}
    queues = [q["name"] for q in build_definitions(services, [])["queues"]]
    dlqs = [name for name in queues if name.endswith(".dlq")]
    assert dlqs
    assert all(re.search(retention["pattern"], name) for name in dlqs)
    consumers = [name for name in queues if not name.endswith(".dlq")]
    assert not any(re.search(retention["pattern"], name) for name in consumers)
    custom = build_definitions(services, [], dead_letter_ttl_days=7, dead_letter_max_length=500)["policies"]
    assert custom[0]["definition"] == {"message-ttl": 7 * 86_400_000, "max-length": 500}
    with pytest.raises(ValueError, match="retention"):
        build_definitions(services, [], dead_letter_ttl_days=0)


def test_practice_systems_publish_into_ingress_vhosts_federated_into_the_trusts() -> None:
    definitions = build_definitions([], [DEMO_PCN], practices={DEMO_PCN: ["Y01234"]})
    ingress = {ingress_vhost(pcn_user(DEMO_PCN)), ingress_vhost("practice-y01234")}
    assert {v["name"] for v in definitions["vhosts"]} == {DEFAULT_VHOST, *ingress}
    upstreams = {p["value"]["uri"]: p["value"] for p in definitions["parameters"]}
    assert set(upstreams) == {f"amqp:///{v}" for v in ingress}  # direct: no password in the document
    assert all(u["trust-user-id"] is True for u in upstreams.values())  # the practice's user_id survives
    assert {p["vhost"] for p in definitions["permissions"] if p["user"] == "practice-y01234"} == {
        ingress_vhost("practice-y01234")
    }


def test_hash_password_uses_rabbitmq_salted_sha256_layout() -> None:
    import base64
    import hashlib

    raw = base64.b64decode(hash_password("pw", salt=b"\x01\x02\x03\x04"))
    assert raw == b"\x01\x02\x03\x04" + hashlib.sha256(b"\x01\x02\x03\x04pw").digest()


# --- on a real broker --------------------------------------------------------------------------------------


def _vhost_of(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def _as_user(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture
def provisioned(
    broker: tuple[str, VhostAdmin | None], amqp_url: str, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    """Import the generated definitions (with test passwords) into this test's vhost with rabbitmqctl."""
    _url, node = broker
    ctl = getattr(node, "ctl", None)
    if ctl is None:
        pytest.skip("the broker fixture gave no rabbitmqctl-capable node (URL, container or system broker)")
    services = discover_services()
    users = [ADMIN_USER, *(service_user(s.service) for s in services)]
    passwords = {user: f"test-{user}-pw" for user in users}
    definitions = build_definitions(services, [], vhost=_vhost_of(amqp_url), passwords=passwords)
    path = tmp_path / "definitions.json"
    path.write_text(render(definitions))
    path.chmod(0o644)
    result = ctl("import_definitions", str(path), check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    try:
        yield amqp_url, passwords
    finally:
        for user in users:
            ctl("delete_user", user, check=False)


async def _publish(url: str, routing_key: str) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(EXCHANGE, ensure=False)
        await exchange.publish(aio_pika.Message(b"{}", message_id="m-1"), routing_key=routing_key)
        # A refused publish closes the channel asynchronously; a round trip makes it surface here.
        await channel.declare_exchange(EXCHANGE, passive=True)


@pytest.mark.integration
async def test_user_without_a_password_in_the_definitions_cannot_log_in(
    provisioned: tuple[str, dict[str, str]], broker: tuple[str, VhostAdmin | None], tmp_path: Path
) -> None:
    url, _passwords = provisioned
    _url, node = broker
    definitions = build_definitions([], [], vhost=_vhost_of(url))
    definitions["users"] = [{"name": "mhp-nopassword", "tags": [], "limits": {}}]
    definitions["permissions"] = []
    path = tmp_path / "nopassword.json"
    path.write_text(render(definitions))
    path.chmod(0o644)
    ctl: Any = getattr(node, "ctl")  # noqa: B009  (the fixture already skipped nodes without it)
    assert ctl("import_definitions", str(path), check=False).returncode == 0
    try:
        for password in ("", "guest"):
            with pytest.raises(aiormq.exceptions.ProbableAuthenticationError):
                await aio_pika.connect(_as_user(url, "mhp-nopassword", password))
    finally:
        ctl("delete_user", "mhp-nopassword", check=False)


@pytest.mark.integration
async def test_service_user_starts_its_host_on_provisioned_topology(
    provisioned: tuple[str, dict[str, str]], make_database_url: Any
) -> None:
    """With provisioned topology a service runs without configure permission and only uses its own queues."""
    from services.triage.bootstrap import build_host
    from services.triage.settings import TriageSettings

    url, passwords = provisioned
    user = service_user("triage")
    settings = TriageSettings(
        rabbitmq_url=_as_user(url, user, passwords[user]),
        database_url=make_database_url("triage"),
        declare_topology=False,
    )
    host: ServiceHost = build_host(settings)
    await host.start()
    try:

        async def ready() -> bool:
            return bool((await host.readiness())["ready"])

        await eventually(ready, timeout=30.0, message="triage host never became ready as mhp-triage")
        # The same user may not declare anything (not even a queue of its own name), nor read another's.
        connection = await aio_pika.connect(settings.rabbitmq_url)
        async with connection:
            channel = await connection.channel()
            with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
                await channel.declare_queue("triage.extra", durable=True)
            channel = await connection.channel()
            with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
                await channel.declare_exchange("mhp.events", aio_pika.ExchangeType.TOPIC, durable=True)
            channel = await connection.channel()
            # Passive: RabbitMQ checks no permission, so within the trust's vhost a queue's existence and
            # depth are no secret between its services (practice systems never enter this vhost).
            others = await channel.get_queue("booking.on_call_triaged")
            with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
                await others.consume(_ignore)
    finally:
        await host.stop()


async def _ignore(_message: AbstractIncomingMessage) -> None:
    return None


@pytest.mark.integration
async def test_broker_imports_the_rendered_definitions_at_boot_with_the_deploy_config(tmp_path: Path) -> None:
    """What compose does: rabbitmq.conf's load_definitions imports users, permissions and queues at boot."""
    if not rabbitmq_installed() or not (RABBITMQ_LIB / "rabbitmq-server").exists():
        pytest.skip("rabbitmq-server is not installed here")
    services = discover_services()
    users = [ADMIN_USER, *(service_user(s.service) for s in services), pcn_user(DEMO_PCN)]
    passwords = {user: f"boot-{user}-pw" for user in users}
    definitions_file = tmp_path / "definitions.json"
    definitions_file.write_text(render(build_definitions(services, [DEMO_PCN], passwords=passwords)))
    definitions_file.chmod(0o644)
    conf = (ROOT / "deploy" / "rabbitmq" / "rabbitmq.conf").read_text()
    config_file = tmp_path / "rabbitmq.conf"
    config_file.write_text(conf.replace("/etc/rabbitmq/definitions/definitions.json", str(definitions_file)))
    node = LocalNode(tmp_path / "node", config_file=config_file)
    await asyncio.to_thread(node.start)
    try:
        base = f"amqp://127.0.0.1:{node.port}/{DEFAULT_VHOST}"
        user = pcn_user(DEMO_PCN)
        ingress = f"amqp://127.0.0.1:{node.port}/{ingress_vhost(user)}"
        await _publish(_as_user(ingress, user, passwords[user]), "call.received.v1.U00123.Y01234")
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused, match="ACCESS_REFUSED"):
            await _publish(_as_user(ingress, user, passwords[user]), "call.received.v1.U00999.Y09999")
        admin = await aio_pika.connect(_as_user(base, ADMIN_USER, passwords[ADMIN_USER]))
        async with admin:
            channel = await admin.channel()
            for topology in services:
                for spec in topology.queues:
                    # An equal re-declare succeeds only if the imported arguments are exactly these.
                    await channel.declare_queue(spec.name, durable=True, arguments=spec.arguments())
    finally:
        await asyncio.to_thread(node.stop)
