"""`mhp up`: provision the broker it runs, start every service as its own broker user, feed the demo."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.table import Table

from mhp.demo import DEMO_PCN, DEMO_PRACTICES, run_demo
from mhp.platform import Platform, available_services
from mhp.practice_feed import impersonated_logins
from mhp.provisioning import LOGINS_FILE, BrokerLogins, broker_ctl, provision

DEMO_ORGANISATIONS = Path(__file__).resolve().parent / "data" / "demo-organisations.yaml"


def provision_for_up(amqp_url: str, node: object, run_dir: Path, console: Console) -> BrokerLogins | None:
    """The definitions imported into a broker we run (with fresh passwords), or None with a warning."""
    from mhp.definitions import DEFAULT_VHOST

    ctl = broker_ctl(node)
    if ctl is None:
        (run_dir / LOGINS_FILE).unlink(missing_ok=True)  # no stale logins for `mhp simulate`
        allow = getattr(node, "allow_impersonation", None)
        if allow is not None:
            # A container we started (a throw-away dev broker): let its guest stand in for every sender.
            allow()
        console.print(
            "[yellow]Warning: mhp up cannot provision a broker given by RABBITMQ_URL (or a container): "
            "every service and the demo log in as its user, so senders are not proven unless that broker "
            "was provisioned (python -m mhp.definitions). Their user_ids (mhp-triage, practice-y01234…) "
            "are accepted only from a login tagged `impersonator`.[/yellow]"
        )
        return None
    console.print("Provisioning the broker: a user per service and per demo practice ...")
    return provision(
        ctl, amqp_url, vhost=DEFAULT_VHOST, run_dir=run_dir, pcn_code=DEMO_PCN, practices=DEMO_PRACTICES
    )


def run_platform(
    amqp_url: str,
    run_dir: Path,
    logins: BrokerLogins | None,
    console: Console,
    *,
    demo: bool,
    calls_per_minute: float,
) -> None:
    """Every service (each as its own broker user when provisioned) and the demo feed, until stopped."""
    from mhp.idp.server import EmbeddedProvider

    # The demo's own identity provider, explicitly enabled here and only here; the services trust it
    # exactly as production services trust CIS2, and the demo's users sign in through it.
    provider = EmbeddedProvider(run_dir / "idp", port=8009, enabled=True).start()
    identity = {"OIDC_ISSUER": provider.issuer, "MHP_ORGANISATIONS_FILE": str(DEMO_ORGANISATIONS)}
    names = [s.name for s in available_services()]
    own_urls = logins.service_urls(names) if logins else {}
    platform = Platform(amqp_url=amqp_url, run_dir=run_dir, extra_env=identity, service_urls=own_urls)
    broker = redact(logins.admin_url if logins else amqp_url)
    stop_requested = False

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, request_stop)
    try:
        running = platform.start()
        console.print(f"Starting {', '.join(s.spec.name for s in running)} on {broker} ...")
        platform.wait_ready()
        table = Table(title="MHP pathway platform is up", caption="OpenAPI docs at <HTTP API>/docs")
        table.add_column("service", no_wrap=True)
        table.add_column("owner", no_wrap=True)
        table.add_column("HTTP API", no_wrap=True)
        table.add_column("broker user", no_wrap=True)
        table.add_column("what it does")
        for service in running:
            user = f"mhp-{service.spec.name}" if service.spec.name in own_urls else "(shared login)"
            table.add_row(service.spec.name, service.spec.owner, service.url, user, service.spec.purpose)
        console.print(table)
        console.print(f"Broker: {broker}   Logs and databases: {run_dir}")
        if logins:
            console.print(
                f"Senders proven: each service and each demo practice logs in as its own broker user; "
                f"their passwords: {run_dir / LOGINS_FILE} (0600). "
                f"More calls: mhp simulate --as pcn --run-dir {run_dir}  (or --as practice)"
            )
        console.print(
            f"Identity provider (demo users): {provider.issuer}   "
            "a token for scripts: mhp token --role mhp --org U00123"
        )
        triage = next((s for s in running if s.spec.name == "triage"), None)
        if demo and triage is not None:
            console.print(
                f"Demo PCN {DEMO_PCN} ({len(DEMO_PRACTICES)} practices) calls in; its MHP works the worklist"
            )
            booking = next((s for s in running if s.spec.name == "booking"), None)
            console.print("Press Ctrl-C to stop.")
            feed = (
                logins.practice_logins(DEMO_PRACTICES)
                if logins
                else impersonated_logins(amqp_url, DEMO_PRACTICES)
            )
            asyncio.run(
                run_demo(
                    feed,
                    logins.admin_url if logins else amqp_url,
                    triage.url,
                    issuer=provider.issuer,
                    booking_url=booking.url if booking else None,
                    calls_per_minute=calls_per_minute,
                )
            )
        else:
            console.print("Press Ctrl-C to stop.")
            while not stop_requested:
                signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        console.print("Stopping services ...")
        platform.stop()
        provider.stop()


def redact(url: str) -> str:
    """Never print a broker password."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
