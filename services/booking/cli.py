"""Operator commands for booking (`mhp booking ...`): load a PCN's MHP rota from a CSV or JSON file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import httpx
import typer

from services.booking.adapters.unit_of_work import SqlBookingUnitOfWork
from services.booking.application.commands import LoadRota
from services.booking.application.handlers.rota import load_rota as load_rota_handler
from services.booking.bootstrap import MIGRATIONS, build_context, build_database
from services.booking.domain.rota import SessionOutsideRotaWindow
from services.booking.entrypoints.rota_file import RotaEntry, RotaFileError, parse_rota
from services.booking.settings import BookingSettings
from shared.migrations import prepare_schema

app = typer.Typer(help="MHP rota and booking operator commands.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """MHP rota and booking operator commands."""


async def _load_into_database(settings: BookingSettings, entries: list[RotaEntry]) -> tuple[int, int]:
    db = build_database(settings)
    try:
        await prepare_schema(db, MIGRATIONS)
        async with SqlBookingUnitOfWork.begin(db) as uow:
            command = LoadRota(tuple(e.plan() for e in entries))
            loaded = await load_rota_handler(command, uow, build_context(settings))
        return len(loaded.session_ids), loaded.already_on_rota
    finally:
        await db.dispose()


@app.command("load-rota")
def load_rota(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="rota .csv or .json")
    ],
    url: Annotated[
        str | None, typer.Option(help="Post to a running booking service (e.g. http://127.0.0.1:8002)")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Write straight into this database (default: BOOKING_DATABASE_URL)")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="MHP_TOKEN",
            help="With --url: a PCN manager's bearer token (e.g. from `mhp token --role pcn_manager`)",
        ),
    ] = None,
) -> None:
    """Load MHP sessions (pcn_code, practice_ods, session_date, period, clinician, modalities, room).

    CSV: one session a row with a header; modalities separated by ';'. JSON: a list or {"sessions": [...]}.
    Sessions already on the rota are left as they are, so a file can be loaded again safely.
    """
    fmt = file.suffix.lower().lstrip(".")
    try:
        entries = parse_rota(file.read_text(encoding="utf-8"), fmt)
    except RotaFileError as exc:
        typer.echo(f"{file}: {exc}", err=True)
        raise typer.Exit(2) from None
    if url is not None:
        if not token:
            typer.echo("--url needs a PCN manager's bearer token: --token or MHP_TOKEN", err=True)
            raise typer.Exit(2)
        body = {"sessions": [e.model_dump(mode="json") for e in entries]}
        headers = {"Authorization": f"Bearer {token}"}
        response = httpx.post(f"{url.rstrip('/')}/rota", json=body, headers=headers, timeout=60)
        if response.status_code != 201:
            typer.echo(
                f"booking service refused the rota ({response.status_code}): {response.text}", err=True
            )
            raise typer.Exit(1)
        created, existing = response.json()["created"], response.json()["already_on_rota"]
    else:
        settings = BookingSettings()
        if database_url:
            settings = settings.model_copy(update={"database_url": database_url})
        try:
            created, existing = asyncio.run(_load_into_database(settings, entries))
        except SessionOutsideRotaWindow as exc:
            typer.echo(f"{file}: {exc.reason}", err=True)
            raise typer.Exit(2) from None
    typer.echo(f"{created} sessions scheduled, {existing} already on the rota")
