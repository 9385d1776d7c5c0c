"""Operator commands for referrals (`mhp referrals ...`): check a referral directory file before use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.referrals.adapters.directory_file import DirectoryError, load_directory

app = typer.Typer(help="MHP referrals operator commands.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """MHP referrals operator commands."""


@app.command("check-directory")
def check_directory(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="referral directory .yaml or .json")],
) -> None:
    """Validate a referral directory file; exit 1 with the problem named if it would stop the service."""
    try:
        directory = load_directory(file)
    except DirectoryError as exc:
        typer.echo(f"invalid: {exc}", err=True)
        raise typer.Exit(1) from None
    for pcn_code, pcn in sorted(directory.pcns.items()):
        services = sum(len(s) for s in pcn.destinations.values())
        kinds, leads = len(pcn.destinations), len(pcn.clinical_leads)
        typer.echo(f"{pcn_code}: {services} services in {kinds} kinds, {leads} leads")
