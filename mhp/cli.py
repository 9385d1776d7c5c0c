"""`mhp`: run the platform (`up`), one service (`service NAME`), synthetic traffic (`simulate`), and the
services' own operator commands (`mhp booking ...`, `mhp metrics ...`, `mhp report`)."""

from __future__ import annotations

import asyncio
import importlib
import runpy
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mhp.broker import NoBrokerAvailable, acquire_broker
from mhp.db import app as db_app
from mhp.demo import publish_calls
from mhp.dlq_cli import app as dlq_app
from mhp.platform import SERVICES, available_services
from mhp.provisioning import LOGINS_FILE, BrokerLogins, ProvisioningError
from mhp.simulation import DEFAULT_AMQP_URL, PublishAs, SimulationError, plan_simulation
from mhp.up import provision_for_up, run_platform
from shared.logging import configure_logging

app = typer.Typer(
    help="MHP pathway platform: NHS primary-care Mental Health Practitioner service.", no_args_is_help=True
)
console = Console(stderr=True)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RUN_DIR = PROJECT_ROOT / "var"


def _mount_service_commands() -> None:
    """Each service may ship operator commands in `services/<name>/cli.py`; mount them as `mhp <name>`."""
    for spec in SERVICES:
        try:
            module = importlib.import_module(f"services.{spec.name}.cli")
        except ModuleNotFoundError as exc:
            if exc.name not in (f"services.{spec.name}.cli", f"services.{spec.name}"):
                raise
            continue
        sub_app = getattr(module, "app", None)
        if isinstance(sub_app, typer.Typer):
            app.add_typer(sub_app, name=spec.name, help=f"{spec.name} operator commands")
        report = getattr(module, "report", None)
        if spec.name == "metrics" and callable(report):
            app.command("report", help="The monthly PCN return (JSON or CSV).")(report)


@app.command()
def up(
    run_dir: Annotated[
        Path, typer.Option(help="Where databases, logs and a private broker live.")
    ] = DEFAULT_RUN_DIR,
    demo: Annotated[bool, typer.Option(help="Feed the platform from a synthetic PCN.")] = True,
    calls_per_minute: Annotated[float, typer.Option(help="Demo call rate.")] = 12.0,
) -> None:
    """Start every service plus the demo feed on a broker (RABBITMQ_URL, a container, or a local RabbitMQ).

    On a broker it runs (a private node, or the system one through rabbitmqctl) it first imports the
    definitions: each service then logs in as its own user and each demo practice as its own, so the
    broker proves every sender. Their random passwords are kept in `<run-dir>/broker-logins.json` (0600).
    """
    configure_logging("mhp", level="WARNING")
    try:
        # A private node only starts when nothing listens on 5672, so it can take the standard port.
        with acquire_broker(run_dir, node_name="mhp-up@localhost", port=5672) as (amqp_url, node):
            logins = provision_for_up(amqp_url, node, run_dir, console)
            run_platform(amqp_url, run_dir, logins, console, demo=demo, calls_per_minute=calls_per_minute)
    except (NoBrokerAvailable, ProvisioningError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


@app.command()
def service(name: Annotated[str, typer.Argument(help="triage, booking, referrals or metrics")]) -> None:
    """Run one service in the foreground (its settings come from `<NAME>_*` environment variables)."""
    names = [s.name for s in available_services()]
    if name not in names:
        console.print(f"[red]unknown service {name!r}[/red]; choose one of: {', '.join(names)}")
        raise typer.Exit(2)
    sys.argv = [f"services.{name}"]
    runpy.run_module(f"services.{name}", run_name="__main__", alter_sys=True)


@app.command()
def simulate(
    calls: Annotated[int, typer.Option(help="How many calls to publish.")] = 100,
    rate: Annotated[float, typer.Option(help="Calls per second; 0 = as fast as the broker confirms.")] = 5.0,
    pcn: Annotated[
        str | None, typer.Option(help="PCN code (default: the PCN user's, else the demo's).")
    ] = None,
    practices: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated practice ODS codes (default: the practice user's, else the demo's)."
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for repeatable traffic.")] = None,
    amqp_url: Annotated[
        str | None,
        typer.Option(
            envvar="RABBITMQ_URL",
            help="Broker URL of a pcn-… or practice-… user (its ingress vhost), who then publishes. "
            "Default: the users `mhp up` provisioned in --run-dir, else guest on 127.0.0.1.",
        ),
    ] = None,
    publish_as: Annotated[
        PublishAs | None,
        typer.Option("--as", help="practice: each practice's own user; pcn: the PCN's user (a hub system)."),
    ] = None,
    run_dir: Annotated[Path, typer.Option(help="Where `mhp up` keeps its broker logins.")] = DEFAULT_RUN_DIR,
) -> None:
    """Publish synthetic `call.received` events the way practice systems do, each as its broker user."""
    configure_logging("mhp-simulate", level="WARNING")
    try:
        plan = plan_simulation(
            amqp_url=amqp_url,
            publish_as=publish_as,
            pcn=pcn,
            practices=practices.split(",") if practices else None,
            provisioned=_provisioned_logins(run_dir),
        )
    except SimulationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if plan.impersonating:
        console.print(
            "[yellow]Not a practice system's login: stamping their user_ids, which only an `impersonator` "
            "login may do (senders are not proven).[/yellow]"
        )
    sent = asyncio.run(
        publish_calls(
            plan.logins,
            count=calls,
            rate=rate,
            pcn_code=plan.pcn_code,
            producer_org=plan.producer_org,
            system=plan.system,
            seed=seed,
        )
    )
    console.print(f"published {sent} calls for PCN {plan.pcn_code} as {', '.join(plan.senders)}")


def _provisioned_logins(run_dir: Path) -> BrokerLogins | None:
    path = run_dir / LOGINS_FILE
    return BrokerLogins.load(path) if path.is_file() else None


@app.command("dead-letters")
def dead_letters(
    amqp_url: Annotated[
        str | None,
        typer.Option(
            envvar="RABBITMQ_URL",
            help="Broker URL (default: the operator's login `mhp up` provisioned, else guest locally).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per bad input.")] = False,
    run_dir: Annotated[Path, typer.Option(help="Where `mhp up` keeps its broker logins.")] = DEFAULT_RUN_DIR,
) -> None:
    """Every dead-lettered message, once per bad input (copies grouped); a peek. See also `mhp dlq`."""
    import json

    from mhp.dead_letters import peek
    from mhp.definitions import discover_services

    if amqp_url is None:
        provisioned = _provisioned_logins(run_dir)
        amqp_url = provisioned.admin_url if provisioned else DEFAULT_AMQP_URL
    queues = [spec.dead_letter_queue for service in discover_services() for spec in service.queues]
    letters = asyncio.run(peek(amqp_url, queues))
    if as_json:
        for letter in letters:
            sys.stdout.write(json.dumps(letter.__dict__) + "\n")
        return
    table = Table("first dead-lettered", "message id", "event type", "copies", "queues", "reasons")
    for letter in letters:
        table.add_row(
            letter.first_at or "?",
            letter.message_id,
            letter.event_type or "?",
            str(letter.copies),
            "\n".join(letter.queues),
            "\n".join(letter.reasons),
        )
    Console().print(table)
    console.print(f"{len(letters)} bad inputs, {sum(d.copies for d in letters)} dead-lettered copies")


@app.command()
def asyncapi() -> None:
    """Print the AsyncAPI 3.0 document of the event catalogue."""
    from shared.contracts.asyncapi import render

    sys.stdout.write(render())


DEFAULT_IDP_STATE_DIR = DEFAULT_RUN_DIR / "idp"


@app.command()
def token(
    role: Annotated[
        str | None, typer.Option(help="Platform role: mhp, clinical_lead, practice_system, pcn_manager...")
    ] = None,
    org: Annotated[str | None, typer.Option(help="ODS code of the trust, a PCN or a practice.")] = None,
    user: Annotated[
        str | None, typer.Option(help="A demo user id (default: the realm's for role + org).")
    ] = None,
    issuer: Annotated[str, typer.Option(envvar="OIDC_ISSUER", help="The embedded provider.")] = (
        "http://127.0.0.1:8009"
    ),
    state_dir: Annotated[
        Path, typer.Option(envvar="MHP_IDP_STATE_DIR", help="The provider's keys (practice systems').")
    ] = DEFAULT_IDP_STATE_DIR,
) -> None:
    """Print a bearer access token from the running embedded (demo) identity provider."""
    from mhp.idp.command import TokenCommandError, demo_token

    try:
        minted = demo_token(role=role, org=org, user_id=user, issuer=issuer, state_dir=state_dir)
    except TokenCommandError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    sys.stdout.write(minted + "\n")


@app.command()
def idp(
    port: Annotated[int, typer.Option(help="Loopback port; the issuer is http://127.0.0.1:PORT.")] = 8009,
    state_dir: Annotated[
        Path, typer.Option(envvar="MHP_IDP_STATE_DIR", help="Where its keys are kept.")
    ] = DEFAULT_IDP_STATE_DIR,
    audience: Annotated[str | None, typer.Option(envvar="OIDC_AUDIENCE", help="Tokens' `aud`.")] = None,
) -> None:
    """Run the embedded demo identity provider in the foreground (only with MHP_EMBEDDED_IDP=enabled)."""
    from mhp.idp.app import ProviderNotEnabled
    from mhp.idp.server import ProviderStartError, serve

    try:
        serve(state_dir, port=port, audience=audience)
    except (ProviderNotEnabled, ProviderStartError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass


_mount_service_commands()
app.add_typer(dlq_app, name="dlq", help="Dead letters: list, show, replay, discard (audited).")
app.add_typer(db_app, name="db", help="Schema migrations per service: upgrade, check, revision.")

if __name__ == "__main__":
    app()
