"""PostgreSQL over TLS: libpq's `sslmode`, `sslrootcert`, `sslcert`, `sslkey` in a database URL take effect.

Unit tests of the URL translation; a fake server that refuses TLS (so `sslmode=require` must fail); a
private PostgreSQL 15 started here with a certificate of a CA made here (verify-full with that CA
connects, with another is refused); and, with `MHP_TEST_POSTGRES_URL`, the same against that server.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest
from sqlalchemy import text

from mhp.broker import free_port
from shared.db import Database, asyncpg_connect_args
from tests.tls.certs import CertificateAuthority

PG_BIN = Path("/usr/lib/postgresql/15/bin")
VERIFY_FAILED = "CERTIFICATE_VERIFY_FAILED|certificate verify failed"
SSL_IN_USE = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


def with_query(url: str, **query: str) -> str:
    parts = urlsplit(url)
    extra = urlencode(query)
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


async def ssl_in_use(url: str) -> bool:
    db = Database(url, [])
    try:
        async with db.engine.connect() as conn:
            return bool((await conn.execute(text(SSL_IN_USE))).scalar_one())
    finally:
        await db.dispose()


# --- the URL translation ----------------------------------------------------------------------------------


def test_tls_parameters_leave_the_url_for_a_libpq_dsn_and_the_rest_stays() -> None:
    url, connect_args = asyncpg_connect_args(
        "postgresql://triage:pw@db.example:5432/triage?sslmode=verify-full&sslrootcert=/etc/mhp/ca.pem"
        "&sslcert=/etc/mhp/client.pem&sslkey=/etc/mhp/client.key&application_name=triage"
    )
    assert url.drivername == "postgresql+asyncpg"
    assert (url.host, url.port, url.username, url.password, url.database) == (
        "db.example",
        5432,
        "triage",
        "pw",
        "triage",
    )
    assert dict(url.query) == {"application_name": "triage"}
    assert connect_args == {
        "dsn": "postgresql://?sslmode=verify-full&sslrootcert=%2Fetc%2Fmhp%2Fca.pem"
        "&sslcert=%2Fetc%2Fmhp%2Fclient.pem&sslkey=%2Fetc%2Fmhp%2Fclient.key"
    }


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+asyncpg"])
def test_every_postgresql_scheme_means_asyncpg(scheme: str) -> None:
    url, connect_args = asyncpg_connect_args(f"{scheme}://u:p@h/d?sslmode=require")
    assert url.drivername == "postgresql+asyncpg"
    assert connect_args == {"dsn": "postgresql://?sslmode=require"}


def test_without_tls_parameters_nothing_is_added() -> None:
    url, connect_args = asyncpg_connect_args("postgresql+asyncpg://u:p@h/d")
    assert str(url) == "postgresql+asyncpg://u:***@h/d"
    assert connect_args == {}
    sqlite, sqlite_args = asyncpg_connect_args("sqlite+aiosqlite:///var/x.db")
    assert (str(sqlite), sqlite_args) == ("sqlite+aiosqlite:///var/x.db", {})


def test_an_unknown_sslmode_is_refused_rather_than_ignored() -> None:
    with pytest.raises(ValueError, match="sslmode='requried'"):
        Database("postgresql://u:p@h/d?sslmode=requried", [])


# --- a server that refuses TLS -----------------------------------------------------------------------------

SSL_REQUEST = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")


@dataclass
class _NoTlsServer:
    first_packets: list[bytes]
    port: int


async def _refusing_tls() -> tuple[asyncio.Server, _NoTlsServer]:
    seen = _NoTlsServer([], 0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        packet = await reader.read(8)
        seen.first_packets.append(packet)
        if packet == SSL_REQUEST:
            writer.write(b"N")  # "this server does not do TLS"
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    seen.port = server.sockets[0].getsockname()[1]
    return server, seen


@pytest.mark.parametrize("mode", ["require", "verify-ca", "verify-full"])
async def test_sslmode_require_and_above_never_fall_back_to_plain(mode: str, tmp_path: Path) -> None:
    ca = CertificateAuthority(tmp_path, "any")
    server, seen = await _refusing_tls()
    async with server:
        url = f"postgresql://u:p@127.0.0.1:{seen.port}/d?" + urlencode(
            {"sslmode": mode, "sslrootcert": ca.pem}
        )
        with pytest.raises(Exception, match="rejected SSL upgrade"):
            await ssl_in_use(url)
    assert seen.first_packets
    assert all(p == SSL_REQUEST for p in seen.first_packets)


async def test_sslmode_disable_sends_no_tls_request() -> None:
    server, seen = await _refusing_tls()
    async with server:
        with pytest.raises(Exception):  # noqa: B017, PT011 - the fake closes on the startup message
            await ssl_in_use(f"postgresql://u:p@127.0.0.1:{seen.port}/d?sslmode=disable")
    assert seen.first_packets
    assert SSL_REQUEST not in seen.first_packets


# --- a private PostgreSQL with a certificate of our own CA -------------------------------------------------


@dataclass(frozen=True)
class _PrivatePostgres:
    port: int
    trusted: CertificateAuthority
    stranger: CertificateAuthority

    def url(self, **query: str) -> str:
        return with_query(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", **query)


def _as_postgres(*command: str) -> None:
    subprocess.run(
        ["su", "postgres", "-c", shlex.join(command)], check=True, capture_output=True, timeout=120
    )


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[_PrivatePostgres]:
    if not (PG_BIN / "initdb").exists() or os.geteuid() != 0 or shutil.which("su") is None:
        pytest.skip("needs PostgreSQL 15 binaries and root (to run a private server as `postgres`)")
    base = Path(tempfile.mkdtemp(prefix="mhp-pg-tls-"))
    try:
        trusted = CertificateAuthority(base / "certs", "trusted")
        server = trusted.issue("server")
        stranger = CertificateAuthority(base / "certs", "stranger")
        server.key.chmod(0o600)  # PostgreSQL refuses a key others may read
        shutil.chown(base, "postgres")
        for path in (base / "certs", server.key):
            shutil.chown(path, "postgres")
        data, port = base / "data", free_port()
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
        options = (
            f"-c port={port} -c listen_addresses=127.0.0.1,127.0.0.2 -c unix_socket_directories={base} "
            "-c ssl=on "
            f"-c ssl_cert_file={server.cert} -c ssl_key_file={server.key} -c ssl_ca_file={trusted.pem}"
        )
        pg_ctl = str(PG_BIN / "pg_ctl")
        _as_postgres(pg_ctl, "-D", str(data), "-w", "-l", str(base / "log"), "-o", options, "start")
        try:
            yield _PrivatePostgres(port, trusted, stranger)
        finally:
            _as_postgres(pg_ctl, "-D", str(data), "-w", "-m", "fast", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.integration
async def test_verify_full_with_the_servers_ca_connects_over_tls(private_postgres: _PrivatePostgres) -> None:
    pg = private_postgres
    assert await ssl_in_use(pg.url(sslmode="verify-full", sslrootcert=str(pg.trusted.pem))) is True
    assert await ssl_in_use(pg.url(sslmode="require")) is True
    assert await ssl_in_use(pg.url(sslmode="disable")) is False


@pytest.mark.integration
async def test_verify_full_with_another_ca_is_refused(private_postgres: _PrivatePostgres) -> None:
    pg = private_postgres
    for mode in ("verify-ca", "verify-full"):
        with pytest.raises(Exception, match=VERIFY_FAILED):
            await ssl_in_use(pg.url(sslmode=mode, sslrootcert=str(pg.stranger.pem)))


@pytest.mark.integration
async def test_verify_full_checks_the_host_name_and_verify_ca_only_the_chain(
    private_postgres: _PrivatePostgres,
) -> None:
    """The server's certificate names localhost and 127.0.0.1; the server also listens on 127.0.0.2."""
    pg = private_postgres
    elsewhere = pg.url(sslrootcert=str(pg.trusted.pem)).replace("127.0.0.1", "127.0.0.2")
    assert await ssl_in_use(with_query(elsewhere, sslmode="verify-ca")) is True
    with pytest.raises(Exception, match=r"CERTIFICATE_VERIFY_FAILED|match"):
        await ssl_in_use(with_query(elsewhere, sslmode="verify-full"))


# --- the PostgreSQL of MHP_TEST_POSTGRES_URL ---------------------------------------------------------------


@pytest.fixture
def given_postgres_url() -> str:
    url = os.environ.get("MHP_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("MHP_TEST_POSTGRES_URL is not set")
    return url


@pytest.mark.integration
async def test_the_given_postgresql_speaks_tls_with_sslmode_require(
    given_postgres_url: str, tmp_path: Path
) -> None:
    plain_db = Database(with_query(given_postgres_url, sslmode="disable"), [])
    try:
        async with plain_db.engine.connect() as conn:
            server_ssl = (await conn.execute(text("SHOW ssl"))).scalar_one()
    finally:
        await plain_db.dispose()
    if server_ssl != "on":
        pytest.skip("the PostgreSQL of MHP_TEST_POSTGRES_URL has ssl = off (start it with -c ssl=on)")
    assert await ssl_in_use(with_query(given_postgres_url, sslmode="disable")) is False
    assert await ssl_in_use(with_query(given_postgres_url, sslmode="require")) is True
    stranger = CertificateAuthority(tmp_path, "stranger")
    with pytest.raises(Exception, match=VERIFY_FAILED):
        await ssl_in_use(with_query(given_postgres_url, sslmode="verify-full", sslrootcert=str(stranger.pem)))
