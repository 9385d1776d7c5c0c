"""Metrics operator commands: `mhp metrics rebuild` and `mhp report` (the monthly PCN return)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from services.metrics.adapters.live_feed import LiveFeed
from services.metrics.adapters.unit_of_work import SqlMetricsUnitOfWork
from services.metrics.application import queries
from services.metrics.application.commands import ProgressCallback, RebuildProjections
from services.metrics.application.context import MetricsContext
from services.metrics.application.handlers.rebuild import rebuild_projections
from services.metrics.bootstrap import MIGRATIONS, build_database
from services.metrics.domain.calendar import InvalidMonth, check_month
from services.metrics.entrypoints.params import ReportFormat, report_csv
from services.metrics.settings import MetricsSettings
from shared.db import Database, utcnow
from shared.migrations import prepare_schema

app = typer.Typer(help="Metrics operator commands.", no_args_is_help=True)
console = Console(stderr=True)


async def rebuild(db: Database, *, progress: ProgressCallback | None = None, chunk: int = 20_000) -> int:
    """Replay the archive into fresh projections in one unit of work; returns the events replayed."""
    ctx = MetricsContext(clock=utcnow, feed=LiveFeed())
    async with SqlMetricsUnitOfWork.begin(db) as uow:
        return await rebuild_projections(RebuildProjections(chunk=chunk, progress=progress), uow, ctx)


async def archive_size(db: Database) -> int:
    async with SqlMetricsUnitOfWork.reading(db) as uow:
        return await queries.archive_size(uow)


@app.command("rebuild")
def rebuild_command() -> None:
    """Replay the metrics archive into fresh projections (reads METRICS_DATABASE_URL)."""
    asyncio.run(_rebuild(MetricsSettings()))


async def _rebuild(settings: MetricsSettings) -> None:
    db = build_database(settings)
    try:
        await prepare_schema(db, MIGRATIONS)
        total = await archive_size(db)
        with Progress(
            TextColumn("replaying archive"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("events"),
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("rebuild", total=total)
            replayed = await rebuild(db, progress=lambda done, _total: progress.update(task, completed=done))
        console.print(f"rebuilt projections from {replayed} archived events")
    finally:
        await db.dispose()


def report(
    pcn: Annotated[str, typer.Option(help="PCN code, e.g. U00123")],
    month: Annotated[str, typer.Option(help="YYYY-MM, a Europe/London calendar month")],
    format: Annotated[ReportFormat, typer.Option(help="json or csv")] = ReportFormat.JSON,
) -> None:
    """Print the monthly PCN return, read straight from the metrics database (METRICS_DATABASE_URL)."""
    try:
        check_month(month, utcnow())
    except InvalidMonth as exc:
        console.print(f"[red]--month: {exc.reason.removeprefix('month: ')}[/red]")
        raise typer.Exit(2) from None
    try:
        result = asyncio.run(_report(MetricsSettings(), pcn, month))
    except queries.UnknownPcn:
        console.print(f"[red]no events have been received for PCN {pcn}; check the PCN code[/red]")
        raise typer.Exit(1) from None
    if format is ReportFormat.CSV:
        sys.stdout.write(report_csv(result))
    else:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")


async def _report(settings: MetricsSettings, pcn: str, month: str) -> dict[str, object]:
    db = build_database(settings)
    try:
        await prepare_schema(db, MIGRATIONS)
        async with SqlMetricsUnitOfWork.reading(db) as uow:
            return await queries.monthly_report(uow, pcn, month, utcnow())
    finally:
        await db.dispose()
