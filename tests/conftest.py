"""Fixtures for a real RabbitMQ and a real database, on any machine.

Broker, in this order: `RABBITMQ_URL` → testcontainers when a Docker engine answers → a RabbitMQ on
127.0.0.1:5672 (each test gets a throw-away vhost) → a private `rabbitmq-server` node started here.
Database: a SQLite file per test and service; with `MHP_TEST_POSTGRES_URL` set, a throw-away PostgreSQL
database per test and service instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import structlog

from mhp.broker import ManagementApi, VhostAdmin, acquire_broker, with_vhost
from mhp.idp.server import EmbeddedProvider
from tests.support.identity import DEMO_ORGANISATIONS, Tokens


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Tests that configure logging (a CLI run in-process, a log-capture test) must not leak it.

    Structlog binds its output stream when configured: left pointing at a test's closed stream, every
    later log call would raise, and with it the relay or consumer that was logging.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session", autouse=True)
def identity_provider() -> Iterator[Tokens]:
    """The embedded OIDC provider on loopback for the whole run; every service in it trusts its tokens.

    Set in the environment (as `mhp up` does for its services) so every host and child process built by
    a test reads the same issuer and organisation directory.
    """
    with tempfile.TemporaryDirectory(prefix="mhp-test-idp-") as state_dir:
        provider = EmbeddedProvider(state_dir=Path(state_dir), port=0, enabled=True)
        provider.start()
        saved = {name: os.environ.get(name) for name in _IDENTITY_ENV}
        os.environ["OIDC_ISSUER"] = provider.issuer
        os.environ["MHP_ORGANISATIONS_FILE"] = str(DEMO_ORGANISATIONS)
        os.environ["MHP_IDP_STATE_DIR"] = state_dir
        try:
            yield Tokens(issuer=provider.issuer, state_dir=Path(state_dir))
        finally:
            provider.stop()
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@pytest.fixture
def tokens(identity_provider: Tokens) -> Tokens:
    """Authorization headers: demo users (`tokens.user(MHP)`), practice systems (`tokens.system(ods)`)."""
    return identity_provider


_IDENTITY_ENV = ("OIDC_ISSUER", "MHP_ORGANISATIONS_FILE", "MHP_IDP_STATE_DIR")


@pytest.fixture(scope="session")
def broker() -> Iterator[tuple[str, VhostAdmin | None]]:
    with (
        tempfile.TemporaryDirectory(prefix="mhp-test-broker-") as run_dir,
        acquire_broker(Path(run_dir)) as got,
    ):
        url, admin = got
        # Services stamp their own user_id (`mhp-triage`…) and test publishers a practice's: on the
        # test broker guest may set any, so one login stands in for every sender. Provisioned users
        # (tests/deploy) are never impersonators, and the broker refuses their forged user_ids.
        (admin if admin is not None else ManagementApi(url)).allow_impersonation()
        yield got


@pytest.fixture
async def amqp_url(broker: tuple[str, VhostAdmin | None]) -> AsyncIterator[str]:
    """A broker URL of this test's own: a fresh vhost, so queues and dead letters never leak between tests."""
    url, admin = broker
    # A broker given only by URL: make vhosts through its management API.
    node: VhostAdmin = admin if admin is not None else ManagementApi(url)
    vhost = f"test-{uuid.uuid4().hex[:10]}"
    try:
        await asyncio.to_thread(node.add_vhost, vhost)
    except Exception as exc:
        pytest.skip(f"cannot create a throw-away vhost on {urlsplit(url).hostname}: {exc}")
    try:
        yield with_vhost(url, vhost)
    finally:
        await asyncio.to_thread(node.delete_vhost, vhost)


def _admin_postgres_url() -> str | None:
    return os.environ.get("MHP_TEST_POSTGRES_URL")


def _run_sync(coro: Any) -> Any:
    # Fixtures are called from inside the test's running loop: run side work on a loop of its own.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _postgres(admin_url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
def make_database_url(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """`make_database_url("triage")` → a database of this test's own for that service."""
    admin = _admin_postgres_url()
    created: list[str] = []

    def make(name: str) -> str:
        if admin is None:
            return f"sqlite+aiosqlite:///{tmp_path}/{name}.db"
        database = f"mhp_test_{name}_{uuid.uuid4().hex[:8]}"
        _run_sync(_postgres(admin, f'CREATE DATABASE "{database}"'))
        created.append(database)
        parts = urlsplit(admin)
        return urlunsplit(parts._replace(scheme="postgresql+asyncpg", path=f"/{database}"))

    yield make
    for database in created:
        assert admin is not None
        _drop_database(admin, database)


def _drop_database(admin: str, database: str, attempts: int = 5) -> None:
    """Drop a test database; an autovacuum worker still in it can make one FORCE attempt fail."""
    import asyncpg

    for attempt in range(attempts):
        try:
            _run_sync(_postgres(admin, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            return
        except (asyncpg.exceptions.InsufficientPrivilegeError, asyncpg.exceptions.ObjectInUseError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)
