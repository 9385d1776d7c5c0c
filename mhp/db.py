"""`mhp db ...`: operator commands for each service's database schema (Alembic migrations)."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Annotated, Any

import typer

from mhp.platform import SERVICES
from shared.db import Database
from shared.migrations import (
    MigrationError,
    autogenerate_revision,
    check,
    current_revision,
    describe,
    has_migrations,
    head_revision,
    upgrade,
)
from shared.settings import ServiceSettings

app = typer.Typer(help="Database schema migrations, one history per service.", no_args_is_help=True)

ServiceName = Annotated[str, typer.Argument(help="triage, booking, referrals or metrics")]
DatabaseUrl = Annotated[
    str | None, typer.Option(help="Database to act on (default: the service's <SERVICE>_DATABASE_URL)")
]


@app.callback()
def main() -> None:
    """Database schema migrations, one history per service."""


def migrations_dir(service: str) -> Path:
    package = importlib.import_module(f"services.{service}")
    return Path(str(package.__file__)).parent / "migrations"


def service_settings(service: str, **overrides: Any) -> ServiceSettings:
    """`<Service>Settings` from the environment, with overrides (e.g. database_url)."""
    if service not in {s.name for s in SERVICES}:
        typer.echo(f"unknown service {service!r}: one of {', '.join(s.name for s in SERVICES)}", err=True)
        raise typer.Exit(2)
    settings_module = importlib.import_module(f"services.{service}.settings")
    settings_class: type[ServiceSettings] = getattr(settings_module, f"{service.capitalize()}Settings")
    return settings_class(**{k: v for k, v in overrides.items() if v is not None})


def service_database(service: str, database_url: str | None = None) -> tuple[Database, Path | None]:
    """The service's own Database and its migrations directory, as its composition root builds them."""
    settings = service_settings(service, database_url=database_url)
    bootstrap = importlib.import_module(f"services.{service}.bootstrap")
    # Building the host makes no connection; it is the one place that knows the service's tables.
    host = bootstrap.build_host(settings)
    db: Database = host.db
    migrations: Path | None = host.migrations
    return db, migrations


def _require_migrations(service: str, migrations: Path | None) -> Path:
    if migrations is None or not has_migrations(migrations):
        typer.echo(
            f"{service} has no migrations: its tables are created at start-up (create_all). "
            f"Make its first revision with `mhp db revision {service} -m 'initial schema'`.",
            err=True,
        )
        raise typer.Exit(2)
    return migrations


@app.command("upgrade")
def upgrade_command(service: ServiceName, database_url: DatabaseUrl = None) -> None:
    """Upgrade the service's database to the newest revision (what the service does at start-up)."""

    async def run() -> tuple[str | None, str | None]:
        db, migrations = service_database(service, database_url)
        try:
            location = _require_migrations(service, migrations)
            before = await current_revision(db)
            await upgrade(db, location)
            return before, await current_revision(db)
        finally:
            await db.dispose()

    before, after = asyncio.run(run())
    if before == after:
        typer.echo(f"{service}: already at {after}")
    else:
        typer.echo(f"{service}: upgraded {before or '(no revision)'} -> {after}")


@app.command("check")
def check_command(service: ServiceName, database_url: DatabaseUrl = None) -> None:
    """Exit 1 if the database is not at the newest revision or differs from the service's models."""

    async def run() -> tuple[str | None, list[Any]]:
        db, migrations = service_database(service, database_url)
        try:
            location = _require_migrations(service, migrations)
            return await current_revision(db), await check(db, location)
        finally:
            await db.dispose()

    current, differences = asyncio.run(run())
    if not differences:
        typer.echo(f"{service}: at {current}, schema matches the models")
        return
    typer.echo(f"{service}: at {current or '(empty)'}, {len(differences)} difference(s):")
    for difference in differences:
        typer.echo(f"  {describe(difference)}")
    raise typer.Exit(1)


@app.command("revision")
def revision_command(
    service: ServiceName,
    message: Annotated[str, typer.Option("-m", "--message", help="What the revision changes")],
) -> None:
    """Autogenerate the next revision from the models (a scratch database replays the history).

    Review the file it writes: Alembic cannot see renames (it writes drop + add) or data migrations.
    """

    async def run() -> tuple[Path, bool]:
        db, migrations = service_database(service)
        try:
            location = migrations or migrations_dir(service)
            return await autogenerate_revision(db, location, message), migrations is not None
        finally:
            await db.dispose()

    try:
        path, wired = asyncio.run(run())
    except MigrationError as exc:
        typer.echo(f"{service}: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{service}: wrote {path} (head {head_revision(path.parent.parent)})")
    if not wired:
        typer.echo(
            f"now pass migrations={path.parent.parent} to {service}'s ServiceHost in its bootstrap", err=True
        )
