"""Database plumbing every service shares: engine, UTC-preserving column type and the unit of work.

Each service owns its own database: a SQLite file by default, a PostgreSQL URL in production.
A PostgreSQL URL may carry libpq's TLS parameters (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`…): they
are handed to asyncpg, which applies them as libpq does (see `asyncpg_connect_args`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import DateTime, Table, TypeDecorator, event
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BEGIN = "mhp_sqlite_begin"
OUTBOX_STAGED = "mhp_outbox_staged"
"""Session.info flag set when a unit of work staged outbox events, so only those wake the relay."""
AFTER_COMMIT = "mhp_after_commit"
"""Session.info list of hooks for this one unit of work, run after it commits."""


def call_after_commit(session: AsyncSession, hook: Callable[[], None]) -> None:
    """Run `hook` after the session's unit of work commits; never if it rolls back."""
    session.info.setdefault(AFTER_COMMIT, []).append(hook)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores instants as UTC and always returns timezone-aware UTC datetimes (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
POSTGRES_TLS_PARAMETERS = (
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcrl",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
)
"""libpq's connection parameters for TLS that asyncpg understands in a DSN (not as keyword arguments)."""


def asyncpg_connect_args(url: str | URL) -> tuple[URL, dict[str, Any]]:
    """The engine URL and asyncpg connect arguments for a PostgreSQL URL.

    `postgresql://` (and `postgres://`) mean the asyncpg driver. SQLAlchemy would pass every query
    parameter to `asyncpg.connect()` as a keyword, which has no `sslmode` or `sslrootcert`: so the TLS
    parameters are taken out of the URL and given to asyncpg as a host-less DSN
    (`dsn="postgresql://?sslmode=verify-full&sslrootcert=…"`), whose parser applies them exactly as libpq
    does (prefer/allow fall back to plain, verify-ca checks the chain, verify-full the host name too).
    Host, user, password and database still come from the URL. Other URLs are returned unchanged.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    if parsed.drivername != "postgresql+asyncpg":
        return parsed, {}
    query = dict(parsed.query)
    tls: dict[str, str] = {}
    for name in POSTGRES_TLS_PARAMETERS:
        if name in query:
            value = query.pop(name)
            tls[name] = value if isinstance(value, str) else value[-1]
    if not tls:
        return parsed, {}
    mode = tls.get("sslmode")
    if mode is not None and mode not in SSL_MODES:
        raise ValueError(f"sslmode={mode!r} in the database URL: expected one of {', '.join(SSL_MODES)}")
    return parsed.set(query=query), {"dsn": "postgresql://?" + urlencode(tls)}


def make_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    """An async engine; on SQLite, WAL and IMMEDIATE transactions so writers queue rather than fail."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: a database error's text must never carry a row's values (a patient's) into a log.
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let us issue BEGIN ourselves: pysqlite's deferred BEGIN upgrades to a write lock
            # mid-transaction, which fails at once under concurrency instead of waiting.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Units of work take the write lock up front (IMMEDIATE); plain reads do not.
            mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    engine_url, connect_args = asyncpg_connect_args(url)
    return create_async_engine(
        engine_url,
        connect_args=connect_args,
        pool_size=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
    )


class Database:
    """One service's database: engine, session factory, and a unit of work running hooks after commit."""

    def __init__(self, url: str, tables: Sequence[Table]) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.tables = list(tables)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self._writer_sessions = async_sessionmaker(
            self.engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}),
            class_=AsyncSession,
            expire_on_commit=False,
        )
        # SQLite allows one writer: queue this process's writers here, where waiting is cheap, rather
        # than in SQLite's busy handler, which sleeps in growing steps. Other processes still rely on it.
        self._write_lock = asyncio.Lock() if self.engine.dialect.name == "sqlite" else None
        self._after_commit: list[Callable[[], None]] = []

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Register a hook run after every unit of work that staged outbox events (the relay's wake-up)."""
        self._after_commit.append(hook)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: everything done on the session commits together, or nothing does."""
        async with contextlib.AsyncExitStack() as stack:
            if self._write_lock is not None:
                await stack.enter_async_context(self._write_lock)
            session = await stack.enter_async_context(self._writer_sessions())
            async with session.begin():
                yield session
            staged = session.info.pop(OUTBOX_STAGED, False)
            hooks: list[Callable[[], None]] = session.info.pop(AFTER_COMMIT, [])
        # The one after-commit mechanism: this unit of work's own hooks, then (if it staged events) the
        # relay's wake-up. A rollback raises out of the block above, so no hook runs for it.
        for hook in hooks:
            hook()
        if staged:
            for hook in self._after_commit:
                hook()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    async def ping(self) -> bool:
        from sqlalchemy import text

        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
