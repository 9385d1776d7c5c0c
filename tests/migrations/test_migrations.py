"""Each service's Alembic history builds exactly its models' schema, idempotently and under concurrency.

Runs on a SQLite file per test, or on a throw-away PostgreSQL database with `MHP_TEST_POSTGRES_URL` set.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import select
from typer.testing import CliRunner

from mhp.db import app, service_database, service_settings
from shared.db import Database, UtcDateTime, utcnow
from shared.messaging.inbox import InboxRecord
from shared.migrations import (
    MigrationError,
    autogenerate_revision,
    check,
    current_revision,
    describe,
    head_revision,
    prepare_schema,
    upgrade,
)

ROOT = Path(__file__).resolve().parents[2]
SERVICES = [
    name
    for name in ("triage", "booking", "referrals", "metrics")
    if (ROOT / "services" / name / "migrations" / "versions").is_dir()
]

pytestmark = pytest.mark.parametrize("service", SERVICES)

runner = CliRunner()

Schema = dict[str, tuple[list[str], list[str]]]


def _database(service: str, url: str) -> tuple[Database, Path]:
    db, migrations = service_database(service, url)
    assert migrations is not None, f"{service}'s bootstrap does not give its ServiceHost its migrations"
    return db, migrations


async def _schema(db: Database) -> Schema:
    def read(connection: Connection) -> Schema:
        inspector = inspect(connection)
        return {
            table: (
                [c["name"] for c in inspector.get_columns(table)],
                sorted(str(i["name"]) for i in inspector.get_indexes(table)),
            )
            for table in sorted(inspector.get_table_names())
        }

    async with db.engine.connect() as conn:
        return await conn.run_sync(read)


async def test_upgrading_an_empty_database_gives_exactly_the_models_schema(
    service: str, make_database_url: Callable[[str], str]
) -> None:
    db, migrations = _database(service, make_database_url(service))
    try:
        await upgrade(db, migrations)

        assert await check(db, migrations) == []
        assert await current_revision(db) == head_revision(migrations)
        assert set(await _schema(db)) == {t.name for t in db.tables} | {"alembic_version"}
    finally:
        await db.dispose()


async def test_upgrading_twice_changes_nothing_and_keeps_the_data(
    service: str, make_database_url: Callable[[str], str]
) -> None:
    db, migrations = _database(service, make_database_url(service))
    try:
        await upgrade(db, migrations)
        async with db.transaction() as session:
            session.add(InboxRecord(consumer="test", event_id=uuid.uuid4(), processed_at=utcnow()))
        before = await _schema(db)

        await upgrade(db, migrations)

        assert await _schema(db) == before
        async with db.read() as session:
            versions = (await session.exec(text("SELECT version_num FROM alembic_version"))).all()  # type: ignore[call-overload]
            inbox_rows = (await session.exec(select(func.count()).select_from(InboxRecord))).one()
        assert [row[0] for row in versions] == [head_revision(migrations)]
        assert inbox_rows == 1
    finally:
        await db.dispose()


async def test_two_processes_upgrading_one_fresh_database_together_both_succeed(
    service: str, make_database_url: Callable[[str], str]
) -> None:
    # Two replicas (or booking's two competing consumers) start at once on one new database.
    url = make_database_url(service)
    command = [
        sys.executable,
        "-c",
        "from mhp.db import app; app()",
        "upgrade",
        service,
        "--database-url",
        url,
    ]
    processes = [
        await asyncio.create_subprocess_exec(
            *command, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        for _ in range(3)
    ]
    outputs = await asyncio.gather(*(p.communicate() for p in processes))

    for process, (output, _) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output.decode()
    db, migrations = _database(service, url)
    try:
        assert await check(db, migrations) == []
    finally:
        await db.dispose()


async def test_two_hosts_in_one_process_create_one_fresh_database_together(
    service: str, make_database_url: Callable[[str], str]
) -> None:
    url = make_database_url(service)
    (first, migrations), (second, _) = _database(service, url), _database(service, url)
    try:
        await asyncio.gather(prepare_schema(first, migrations), prepare_schema(second, migrations))

        assert await check(first, migrations) == []
    finally:
        await first.dispose()
        await second.dispose()


@pytest.mark.integration
async def test_a_starting_host_migrates_its_fresh_database(
    service: str, amqp_url: str, make_database_url: Callable[[str], str]
) -> None:
    import importlib

    settings = service_settings(service, rabbitmq_url=amqp_url, database_url=make_database_url(service))
    host: Any = importlib.import_module(f"services.{service}.bootstrap").build_host(settings)
    await host.start()
    try:
        migrations = host.migrations
        assert migrations is not None
        assert await check(host.db, migrations) == []
        assert await current_revision(host.db) == head_revision(migrations)
    finally:
        await host.stop()


async def test_check_names_what_the_database_lacks(
    service: str, make_database_url: Callable[[str], str]
) -> None:
    db, migrations = _database(service, make_database_url(service))
    try:
        await upgrade(db, migrations)
        # Someone dropped an index by hand: the upgrade (already at head) does not bring it back.
        async with db.transaction() as session:
            await session.exec(text("DROP INDEX ix_outbox_pending"))  # type: ignore[call-overload]
        await upgrade(db, migrations)

        differences = await check(db, migrations)

        assert [describe(d) for d in differences] == ["add_index ix_outbox_pending on outbox"]
    finally:
        await db.dispose()


async def _made_before_migrations(url: str, tables: list[Table]) -> None:
    """A database as services made them before they had migrations: create_all, no version table."""
    legacy = Database(url, tables)
    try:
        await prepare_schema(legacy)
        async with legacy.transaction() as session:
            session.add(InboxRecord(consumer="legacy", event_id=uuid.uuid4(), processed_at=utcnow()))
    finally:
        await legacy.dispose()


async def test_a_database_made_before_migrations_is_adopted_with_its_data(
    service: str, make_database_url: Callable[[str], str]
) -> None:
    db, migrations = _database(service, make_database_url(service))
    try:
        await _made_before_migrations(db.url, db.tables)
        assert await check(db, migrations) == [("not_at_head", None, head_revision(migrations))]

        await upgrade(db, migrations)

        assert await check(db, migrations) == []
        async with db.read() as session:
            assert (await session.exec(select(func.count()).select_from(InboxRecord))).one() == 1
    finally:
        await db.dispose()


async def test_a_database_made_before_migrations_that_differs_is_refused_untouched(
    service: str, make_database_url: Callable[[str], str]
) -> None:
    db, migrations = _database(service, make_database_url(service))
    try:
        await _made_before_migrations(db.url, db.tables)
        async with db.transaction() as session:
            await session.exec(text("DROP INDEX ix_outbox_pending"))  # type: ignore[call-overload]

        with pytest.raises(MigrationError, match="add_index ix_outbox_pending on outbox"):
            await upgrade(db, migrations)

        assert await current_revision(db) is None
        assert "alembic_version" not in await _schema(db)
    finally:
        await db.dispose()


async def test_revision_writes_the_model_changes_and_upgrading_applies_them(
    service: str, make_database_url: Callable[[str], str], tmp_path: Path
) -> None:
    db, migrations = _database(service, make_database_url(service))
    await db.dispose()
    copy = tmp_path / service / "migrations"
    shutil.copytree(migrations, copy, ignore=shutil.ignore_patterns("__pycache__"))
    # The models gain a nullable column on the outbox and a new table with a UTC timestamp.
    metadata = MetaData()
    tables = [t.to_metadata(metadata) for t in db.tables]
    outbox = metadata.tables["outbox"]
    outbox.append_column(Column("note", String(), nullable=True))
    Table("audit", metadata, Column("id", Integer, primary_key=True), Column("at", UtcDateTime()))
    changed = Database(db.url, [*tables, metadata.tables["audit"]])
    previous = str(head_revision(copy))
    expected = f"{int(previous) + 1:04d}"  # revisions are numbered: the next one after the head
    try:
        path = await autogenerate_revision(changed, copy, "audit table and outbox note")

        source = path.read_text()
        assert path.name == f"{expected}_audit_table_and_outbox_note.py"
        assert f'down_revision: str | Sequence[str] | None = "{previous}"' in source
        assert "from shared.db import UtcDateTime" in source
        assert 'sa.Column("at", UtcDateTime(), nullable=True)' in source
        assert 'batch_op.add_column(sa.Column("note", sa.String(), nullable=True))' in source

        await prepare_schema(changed, copy)

        assert await current_revision(changed) == expected
        assert await check(changed, copy) == []
    finally:
        await changed.dispose()


async def test_revision_refuses_when_the_models_match_the_history(
    service: str, make_database_url: Callable[[str], str], tmp_path: Path
) -> None:
    db, migrations = _database(service, make_database_url(service))
    copy = tmp_path / service / "migrations"
    shutil.copytree(migrations, copy, ignore=shutil.ignore_patterns("__pycache__"))
    try:
        with pytest.raises(MigrationError, match="no changes"):
            await autogenerate_revision(db, copy, "nothing")
        assert sorted(p.name for p in (copy / "versions").glob("0*.py")) == sorted(
            p.name for p in (migrations / "versions").glob("0*.py")
        )
    finally:
        await db.dispose()


def test_db_commands_upgrade_then_report_a_matching_schema(
    service: str, make_database_url: Callable[[str], str]
) -> None:
    url = make_database_url(service)
    lagging = runner.invoke(app, ["check", service, "--database-url", url])
    upgraded = runner.invoke(app, ["upgrade", service, "--database-url", url])
    again = runner.invoke(app, ["upgrade", service, "--database-url", url])
    current = runner.invoke(app, ["check", service, "--database-url", url])

    assert lagging.exit_code == 1, lagging.output
    assert "migrations head is" in lagging.output
    assert upgraded.exit_code == 0, upgraded.output
    assert "upgraded (no revision) ->" in upgraded.output
    assert again.exit_code == 0
    assert "already at" in again.output
    assert current.exit_code == 0, current.output
    assert "schema matches the models" in current.output
