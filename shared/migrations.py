"""Alembic schema migrations, one history per service, run from code (no alembic.ini or env.py).

A service with migrations keeps them in `services/<name>/migrations/versions/`; the host upgrades its
database to head at start-up, under a lock so that two processes starting together cannot race.
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import weakref
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from alembic.autogenerate import RevisionContext, compare_metadata
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.sql.sqltypes import AutoString

from shared.db import SQLITE_BEGIN, Database, UtcDateTime
from shared.logging import get_logger

log = get_logger(__name__)

TEMPLATE = Path(__file__).with_name("migration_template") / "script.py.mako"
"""The revision template copied into a service's migrations directory when it gets its first revision."""

_alembic_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


class MigrationError(RuntimeError):
    """No migrations to run, a pre-migration database that does not match them, or no revision to write."""


def has_migrations(script_location: Path) -> bool:
    return (script_location / "versions").is_dir() and (script_location / "script.py.mako").is_file()


def target_metadata(db: Database) -> MetaData:
    """Only this service's tables: SQLModel.metadata holds every service imported in the process."""
    metadata = MetaData()
    for table in db.tables:
        table.to_metadata(metadata)
    return metadata


def alembic_config(script_location: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("path_separator", "os")
    return config


def head_revision(script_location: Path) -> str | None:
    return ScriptDirectory.from_config(alembic_config(script_location)).get_current_head()


def _render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render the project's column types as importable code (Alembic would write unimportable paths)."""
    if kind != "type":
        return False
    if isinstance(obj, UtcDateTime):
        if autogen_context.imports is not None:
            autogen_context.imports.add("from shared.db import UtcDateTime")
        return "UtcDateTime()"
    if isinstance(obj, AutoString):
        # SQLModel's str column: a plain VARCHAR on every dialect.
        return "sa.String()" if obj.length is None else f"sa.String(length={obj.length})"
    return False


def _context_options(metadata: MetaData, *, batch: bool) -> dict[str, Any]:
    return {
        "target_metadata": metadata,
        # SQLite cannot ALTER most things: batch mode copies the table; on PostgreSQL it plainly ALTERs.
        "render_as_batch": batch,
        "compare_type": True,
        "compare_server_default": True,
        "render_item": _render_item,
    }


def _process_lock() -> asyncio.Lock:
    # Alembic installs module-global `op`/`context` proxies while it runs, and run_sync yields to the
    # event loop on every statement: two upgrades interleaving in one loop would swap proxies.
    loop = asyncio.get_running_loop()
    lock = _alembic_locks.get(loop)
    if lock is None:
        lock = _alembic_locks[loop] = asyncio.Lock()
    return lock


def _advisory_key(script_location: Path) -> int:
    # One key per service, the same in every process and checkout (hash() is salted); fits a bigint.
    return zlib.crc32(f"mhp-migrations:{script_location.parent.name}".encode())


@asynccontextmanager
async def _exclusive_connection(db: Database, script_location: Path) -> AsyncIterator[AsyncConnection]:
    """One transaction holding the database's migration lock until it commits.

    SQLite: BEGIN IMMEDIATE takes the write lock, so a second process waits (busy_timeout) and then sees
    the version the first one committed. PostgreSQL: DDL is transactional and a transaction-level
    advisory lock serialises concurrent upgraders.
    """
    engine = db.engine
    if db.dialect == "sqlite":
        engine = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    async with _process_lock(), engine.begin() as conn:
        if db.dialect == "postgresql":
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _advisory_key(script_location)}
            )
        yield conn


def _run_in_environment(
    connection: Connection,
    /,
    config: Config,
    metadata: MetaData,
    fn: Callable[[Any, MigrationContext], Any],
    *,
    batch: bool,
    **environment: Any,
) -> None:
    script = ScriptDirectory.from_config(config)
    with EnvironmentContext(config, script, fn=fn, **environment) as env:
        env.configure(connection=connection, **_context_options(metadata, batch=batch))
        with env.begin_transaction():
            env.run_migrations()


def _compare(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(connection, opts=_context_options(metadata, batch=False))
    return list(compare_metadata(context, metadata))


async def upgrade(db: Database, script_location: Path, revision: str = "head") -> None:
    """Bring the service's database to `revision` (default: the newest), creating it from empty if need be.

    A database made before the service had migrations (by create_all: tables, no version table) is adopted:
    stamped at the first revision, upgraded, and kept only if it then matches the models exactly; if not,
    the one transaction rolls back and MigrationError lists the differences for an operator to resolve.
    """
    if not has_migrations(script_location):
        raise MigrationError(f"no migrations in {script_location}")
    config = alembic_config(script_location)
    script = ScriptDirectory.from_config(config)
    metadata = target_metadata(db)
    started_at: tuple[str, ...] = ()
    adopted = False

    def upgrade_steps(current: Any, _context: MigrationContext) -> Any:
        nonlocal started_at
        started_at = tuple(current)
        return script._upgrade_revs(revision, current)

    def run(connection: Connection, /) -> list[Any]:
        nonlocal adopted
        context = MigrationContext.configure(connection)
        existing = set(inspect(connection).get_table_names()) & set(metadata.tables)
        if context.get_current_revision() is None and existing:
            if revision != "head":
                raise MigrationError("a database made before migrations can only be upgraded to head")
            context.stamp(script, script.get_base() or "base")
            adopted = True
        _run_in_environment(
            connection,
            config,
            metadata,
            upgrade_steps,
            batch=db.dialect == "sqlite",
            destination_rev=revision,
        )
        return _compare(connection, metadata) if adopted else []

    async with _exclusive_connection(db, script_location) as conn:
        differences = await conn.run_sync(run)
        if differences:  # raised inside the transaction: it rolls back, the database is left as it was
            raise MigrationError(
                f"the database predates migrations and does not match revision {script.get_base()}: "
                + "; ".join(describe(d) for d in differences)
            )
    head = script.get_current_head() if revision == "head" else revision
    if adopted:
        log.info("database_adopted", baseline_revision=script.get_base(), to_revision=head)
    elif started_at != (head,):
        log.info("database_migrated", from_revision=",".join(started_at) or None, to_revision=head)


async def prepare_schema(db: Database, script_location: Path | None = None) -> None:
    """Bring the schema up to the models: an Alembic upgrade to head when the service has migrations
    (so every database made anywhere carries its revision and can be upgraded later), else create_all.
    """
    if script_location is not None and has_migrations(script_location):
        await upgrade(db, script_location)
        return
    from sqlmodel import SQLModel

    async with db.engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all, tables=db.tables)


async def current_revision(db: Database) -> str | None:
    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with db.engine.connect() as conn:
        return await conn.run_sync(read)


async def check(db: Database, script_location: Path) -> list[Any]:
    """Differences between the database and the service's models; empty when they match.

    The first entry is `("not_at_head", current, head)` when the database lags its migration history.
    Then Alembic's `compare_metadata` diffs: ("add_table", Table), ("remove_column", ...), and so on.
    """
    metadata = target_metadata(db)
    differences: list[Any] = []
    current, head = await current_revision(db), head_revision(script_location)
    if current != head:
        differences.append(("not_at_head", current, head))
    async with db.engine.connect() as conn:
        differences.extend(await conn.run_sync(_compare, metadata))
    return differences


def _next_revision_id(script_location: Path) -> str:
    script = ScriptDirectory.from_config(alembic_config(script_location))
    return f"{sum(1 for _ in script.walk_revisions()) + 1:04d}"


def init_migrations(script_location: Path) -> None:
    """Make an empty migrations directory (a package, so revision modules have unique import names)."""
    (script_location / "versions").mkdir(parents=True, exist_ok=True)
    service = script_location.parent.name
    docstrings = {
        script_location: f"Schema migrations of the {service} database (Alembic; `mhp db --help`).",
        script_location / "versions": f"The {service} schema's revisions, oldest first; one file each.",
    }
    for package, docstring in docstrings.items():
        init = package / "__init__.py"
        if not init.exists():
            init.write_text(f'"""{docstring}"""\n')
    if not (script_location / "script.py.mako").exists():
        shutil.copyfile(TEMPLATE, script_location / "script.py.mako")


async def autogenerate_revision(db: Database, script_location: Path, message: str) -> Path:
    """Write the next revision: the difference between the models and the current migration history.

    The history is replayed on a scratch SQLite database, so no real database is needed or touched.
    `db` supplies the service's tables (its URL is not used).
    """
    init_migrations(script_location)
    config = alembic_config(script_location)
    script = ScriptDirectory.from_config(config)
    rev_id = _next_revision_id(script_location)
    with tempfile.TemporaryDirectory(prefix="mhp-revision-") as scratch_dir:
        scratch = Database(f"sqlite+aiosqlite:///{scratch_dir}/scratch.db", db.tables)
        try:
            if script.get_current_head() is not None:
                await upgrade(scratch, script_location)
            revision_context = RevisionContext(
                config,
                script,
                {
                    "message": message,
                    "autogenerate": True,
                    "sql": False,
                    "head": "head",
                    "splice": False,
                    "branch_label": None,
                    "version_path": None,
                    "rev_id": rev_id,
                    "depends_on": None,
                },
            )

            def autogenerate(current: Any, context: MigrationContext) -> list[Any]:
                revision_context.run_autogenerate(current, context)
                return []

            async with _process_lock(), scratch.engine.begin() as conn:
                await conn.run_sync(
                    _run_in_environment,
                    config,
                    target_metadata(db),
                    autogenerate,
                    # Later revisions ALTER: batch ops copy the table on SQLite, ALTER in place on PostgreSQL.
                    # The first one only creates, so it stays plain.
                    batch=script.get_current_head() is not None,
                    as_sql=False,
                    template_args=revision_context.template_args,
                    revision_context=revision_context,
                )
        finally:
            await scratch.dispose()
    directives = revision_context.generated_revisions
    if all(d.upgrade_ops is None or d.upgrade_ops.is_empty() for d in directives):
        raise MigrationError("no changes between the models and the migration history: nothing to write")
    written = [s for s in revision_context.generate_scripts() if s is not None]
    path = Path(written[0].path)
    _format(path)
    return path


def _format(path: Path) -> None:
    """Leave the file as the project's formatter would, when ruff is installed (a dev dependency)."""
    if importlib.util.find_spec("ruff") is None:
        return
    for arguments in (["check", "--fix-only", "--quiet"], ["format", "--quiet"]):
        subprocess.run(
            [sys.executable, "-m", "ruff", *arguments, str(path)], check=False, capture_output=True
        )


def describe(difference: Any) -> str:
    """One line per difference from `check`, naming the table/column/index instead of dumping reprs."""
    if isinstance(difference, list):
        return "; ".join(describe(d) for d in difference)
    kind, *rest = difference
    if kind == "not_at_head":
        return f"database at revision {rest[0] or '(none)'}, migrations head is {rest[1]}"
    if kind in ("modify_nullable", "modify_type", "modify_default", "modify_comment"):
        _schema, table, column, _info, old, new = rest
        return f"{kind} {table}.{column}: {old!r} -> {new!r}"
    if kind in ("add_column", "remove_column"):
        return f"{kind} {rest[1]}.{rest[2].name}"
    subject = rest[-1]
    table = getattr(subject, "table", None)
    name = getattr(subject, "name", None) or subject
    return f"{kind} {name}" + (f" on {table.name}" if table is not None and table is not subject else "")
