"""Metrics operator commands: `mhp metrics rebuild` and `mhp report` (the monthly PCN return)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from services.metrics.api import MONTH_PATTERN, ReportFormat, report_csv
from services.metrics.bootstrap import MIGRATIONS, build_database
from services.metrics.handlers import UnknownPcn, archive_size, monthly_report, rebuild
from services.metrics.settings import MetricsSettings
from shared.db import utcnow
from shared.migrations import prepare_schema

app = typer.Typer(help="Metrics operator commands.", no_args_is_help=True)
console = Console(stderr=True)


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
    import re

    if not re.fullmatch(MONTH_PATTERN, month):
        console.print("[red]--month must be YYYY-MM, e.g. 2026-10[/red]")
        raise typer.Exit(2)
    try:
        result = asyncio.run(_report(MetricsSettings(), pcn, month))
    except UnknownPcn:
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
        return await monthly_report(db, pcn, month, utcnow())
    finally:
        await db.dispose()
