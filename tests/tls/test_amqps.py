"""AMQPS: a service host talks to RabbitMQ's TLS listener given `amqps://…?cafile=`, and never falls back.

A private RabbitMQ node is started with deploy/rabbitmq/tls.conf (its certificate paths and port replaced)
and certificates made here: the CA that issued the broker's certificate, and another CA that did not.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aio_pika
import pytest

from mhp.broker import RABBITMQ_LIB, LocalNode, free_port
from services.triage.adapters.tables import TriageCall
from services.triage.bootstrap import build_host
from services.triage.settings import TriageSettings
from tests.support.amqp import eventually, publish_event
from tests.support.factories import call_received
from tests.tls.certs import CertificateAuthority, Issued

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TLS_CONF = ROOT / "deploy" / "rabbitmq" / "tls.conf"
VERIFY_FAILED = "CERTIFICATE_VERIFY_FAILED|certificate verify failed"


class _TlsNode(LocalNode):
    """A private node configured with the deploy TLS file (`config_file`) instead of no configuration."""

    def connections(self) -> list[tuple[str, str]]:
        """(client-given connection name, ssl true/false) of every open AMQP connection."""
        listed = self.ctl("list_connections", "client_properties", "ssl", "--no-table-headers")
        rows = []
        for line in listed.stdout.decode().splitlines():
            properties, _, ssl = line.rpartition("\t")
            name = re.search(r'\{"connection_name","([^"]*)"\}', properties)
            rows.append((name.group(1) if name else "", ssl.strip()))
        return rows


@dataclass(frozen=True)
class TlsBroker:
    node: _TlsNode
    tls_port: int
    server: Issued
    client: Issued
    """A client certificate from the broker's CA."""
    stranger: CertificateAuthority
    """A CA that issued nothing the broker trusts."""

    def url(self, cafile: Path, **query: str) -> str:
        return f"amqps://guest:guest@127.0.0.1:{self.tls_port}/?" + urlencode(
            {"cafile": str(cafile), **query}
        )


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsBroker]:
    if not (RABBITMQ_LIB / "rabbitmq-server").exists():
        pytest.skip("rabbitmq-server is not installed here")
    base = tmp_path_factory.mktemp("amqps")
    base.chmod(0o755)  # the node may run as the `rabbitmq` user: it must reach the certificates
    trusted = CertificateAuthority(base / "certs", "trusted")
    server = trusted.issue("server")
    client = trusted.issue("client", ("mhp-triage",), client=True)
    stranger = CertificateAuthority(base / "certs", "stranger")
    (base / "certs").chmod(0o755)
    tls_port = free_port()
    conf = (
        TLS_CONF.read_text()
        .replace("listeners.ssl.default = 5671", f"listeners.ssl.default = {tls_port}")
        .replace("/etc/rabbitmq/tls/ca.pem", str(trusted.pem))
        .replace("/etc/rabbitmq/tls/server.pem", str(server.cert))
        .replace("/etc/rabbitmq/tls/server.key", str(server.key))
    )
    assert f"listeners.ssl.default = {tls_port}" in conf, "tls.conf changed shape"
    assert str(server.key) in conf, "tls.conf changed shape"
    config_file = base / "rabbitmq.conf"
    config_file.write_text(conf)
    node = _TlsNode(base / "node", config_file=config_file)
    node.start()
    try:
        node.allow_impersonation()  # services stamp user_id mhp-triage; guest stands in for every sender
        yield TlsBroker(node, tls_port, server, client, stranger)
    finally:
        node.stop()


async def test_a_service_host_becomes_ready_and_consumes_over_amqps(
    tls_broker: TlsBroker, make_database_url: Callable[[str], str]
) -> None:
    url = tls_broker.url(tls_broker.server.ca)
    settings = TriageSettings(
        rabbitmq_url=url, database_url=make_database_url("triage"), relay_poll_seconds=0.1
    )
    host = build_host(settings)
    await host.start()  # declares the topology over TLS, then the publisher and the FastStream consumers
    try:

        async def ready() -> bool:
            return bool((await host.readiness())["ready"])

        await eventually(ready, timeout=30.0, message="triage never became ready over amqps")
        event = call_received()
        await publish_event(url, event)

        async def stored() -> bool:
            async with host.db.read() as session:
                return await session.get(TriageCall, event.data.call_id) is not None

        await eventually(stored, message="the call published over amqps never reached triage")
        connections = dict(tls_broker.node.connections())
        assert connections.get("triage-publisher") == "true", connections
        assert connections.get("triage-consumer") == "true", connections
        assert set(connections.values()) == {"true"}, f"a connection went over plain AMQP: {connections}"
    finally:
        await host.stop()


async def test_a_broker_certificate_from_another_ca_is_refused_with_no_plain_fallback(
    tls_broker: TlsBroker, make_database_url: Callable[[str], str]
) -> None:
    url = tls_broker.url(tls_broker.stranger.pem)
    with pytest.raises(Exception, match=VERIFY_FAILED):
        await aio_pika.connect(url, timeout=10)
    host = build_host(TriageSettings(rabbitmq_url=url, database_url=make_database_url("triage")))
    with pytest.raises(Exception, match=VERIFY_FAILED):
        await host.start()
    await host.db.dispose()
    assert tls_broker.node.connections() == [], "something connected although the broker was not trusted"


async def test_client_certificates_from_the_url_are_presented_and_checked_by_the_broker(
    tls_broker: TlsBroker,
) -> None:
    good = tls_broker.client
    connection = await aio_pika.connect(
        tls_broker.url(good.ca, certfile=str(good.cert), keyfile=str(good.key)), timeout=10
    )
    await connection.close()
    # ssl_options.verify = verify_peer: a presented certificate the broker's CA did not issue is refused.
    foreign = tls_broker.stranger.issue(f"foreign-{uuid.uuid4().hex[:6]}", ("mhp-triage",), client=True)
    with pytest.raises(Exception):  # noqa: B017, PT011 - the broker's alert surfaces as several error types
        await aio_pika.connect(
            tls_broker.url(good.ca, certfile=str(foreign.cert), keyfile=str(foreign.key)), timeout=10
        )
