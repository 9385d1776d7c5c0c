"""Provisioning a broker we run for the platform: the definitions' users, each with a password of its own.

`mhp up` (and the end-to-end tests) import `mhp.definitions.build_definitions` into a broker they can
drive through `rabbitmqctl`: every service then logs in as its own user (`mhp-triage`…) with no
configure permission, and each demo practice publishes as its own (`practice-y01234`) into its ingress
vhost, so the broker proves every sender. The passwords are random, made at each start, and kept with
the URLs in the run directory (mode 0600) for `mhp simulate` and `mhp dead-letters`.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from mhp.broker import SystemNode
from mhp.practice_feed import PracticeLogin
from shared.contracts.routing import EXCHANGE
from shared.messaging.senders import (
    ADMIN_USER,
    pcn_user,
    practice_user,
    publishes_from_ingress,
    service_user,
)

Ctl = Callable[..., subprocess.CompletedProcess[bytes]]
"""`ctl("list_users", check=False)`: rabbitmqctl against the broker's node."""

LOGINS_FILE = "broker-logins.json"


class ProvisioningError(RuntimeError):
    """The definitions could not be imported (the message holds rabbitmqctl's reason)."""


def broker_ctl(node: object) -> Ctl | None:
    """rabbitmqctl for a node `mhp.broker.acquire_broker` gave, or None (a URL or a container)."""
    ctl = getattr(node, "ctl", None)
    if callable(ctl):
        return ctl  # type: ignore[no-any-return]
    if isinstance(node, SystemNode):
        return _system_ctl
    return None


def _system_ctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["rabbitmqctl", "-q", *args], check=check, capture_output=True, timeout=120)


@dataclass(frozen=True)
class BrokerLogins:
    """Where and as whom each platform user logs in on a provisioned broker."""

    base_url: str
    """The node's URL without credentials or vhost: `amqp://127.0.0.1:5672`, maybe with a query."""
    vhost: str
    passwords: Mapping[str, str] = field(repr=False)

    def url_for(self, user: str) -> str:
        """The trust's vhost for services and the operator; a practice's or PCN's own ingress vhost."""
        from mhp.definitions import ingress_vhost

        vhost = ingress_vhost(user, self.vhost) if publishes_from_ingress(user) else self.vhost
        parts = urlsplit(self.base_url)
        credentials = f"{quote(user, safe='')}:{quote(self.passwords[user], safe='')}"
        netloc = f"{credentials}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc, path="/" + quote(vhost, safe="")))

    def service_urls(self, services: Sequence[str]) -> dict[str, str]:
        return {name: self.url_for(service_user(name)) for name in services}

    @property
    def admin_url(self) -> str:
        return self.url_for(ADMIN_USER)

    def practice_logins(self, practices: Sequence[str]) -> dict[str, PracticeLogin]:
        """Each practice publishing as itself: its own user, into its own ingress vhost."""
        return {ods: PracticeLogin(self.url_for(practice_user(ods)), practice_user(ods)) for ods in practices}

    def pcn_logins(self, pcn_code: str, practices: Sequence[str]) -> dict[str, PracticeLogin]:
        """A PCN-wide system (a hub's telephony) publishing for each practice of its PCN, as the PCN."""
        login = PracticeLogin(self.url_for(pcn_user(pcn_code)), pcn_user(pcn_code))
        return dict.fromkeys(practices, login)

    def save(self, path: Path) -> None:
        """The passwords are secrets: written owner-only (0600), and re-tightened if the file existed."""
        body = {"base_url": self.base_url, "vhost": self.vhost, "passwords": dict(self.passwords)}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with open(fd, "w", encoding="utf-8") as out:
            json.dump(body, out, indent=2)

    @classmethod
    def load(cls, path: Path) -> BrokerLogins:
        body = json.loads(path.read_text(encoding="utf-8"))
        return cls(str(body["base_url"]), str(body["vhost"]), dict(body["passwords"]))


def provision(
    ctl: Ctl,
    amqp_url: str,
    *,
    vhost: str,
    run_dir: Path,
    pcn_code: str,
    practices: Sequence[str],
    federation_timeout: float = 60.0,
) -> BrokerLogins:
    """Import the definitions for these services, the PCN and its practices, with fresh passwords.

    Waits until every ingress vhost's federation link runs, so a practice's first call is routed.
    """
    from mhp.definitions import build_definitions, discover_services, render

    services = discover_services()
    users = [
        ADMIN_USER,
        *(service_user(s.service) for s in services),
        pcn_user(pcn_code),
        *(practice_user(ods) for ods in practices),
    ]
    logins = BrokerLogins(_base_url(amqp_url), vhost, {u: secrets.token_urlsafe(24) for u in users})
    definitions = build_definitions(
        services, [pcn_code], practices={pcn_code: list(practices)}, vhost=vhost, passwords=logins.passwords
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    logins.save(run_dir / LOGINS_FILE)
    path = run_dir / "definitions.json"
    path.write_text(render(definitions), encoding="utf-8")
    path.chmod(0o644)  # salted hashes only; a system broker's node may read it as its own user
    try:
        result = ctl("import_definitions", str(path), check=False)
    finally:
        path.unlink(missing_ok=True)
    if result.returncode != 0:
        reason = (result.stderr or result.stdout).decode(errors="replace").strip()
        raise ProvisioningError(f"rabbitmqctl import_definitions failed: {reason}")
    ingress = [v["name"] for v in definitions["vhosts"] if v["name"] != vhost]
    wait_for_federation(ctl, ingress, timeout=federation_timeout)
    return logins


def _base_url(amqp_url: str) -> str:
    parts = urlsplit(amqp_url)
    netloc = str(parts.hostname) + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc, path=""))


def wait_for_federation(ctl: Ctl, ingress_vhosts: Sequence[str], *, timeout: float = 60.0) -> None:
    """Until each ingress vhost holds its federation link's queue with the trust's bindings propagated."""
    deadline = time.monotonic() + timeout
    pending = list(ingress_vhosts)
    while pending:
        pending = [v for v in pending if not _federated(ctl, v)]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise ProvisioningError(
                f"federation links not running after {timeout:.0f}s: {', '.join(pending)}"
            )
        time.sleep(0.3)


def _federated(ctl: Ctl, ingress: str) -> bool:
    """The link's upstream exchange is bound to the ingress `mhp.events` with the trust's `call.received`."""
    columns = ("source_name", "destination_name", "routing_key")
    out = ctl("list_bindings", "-p", ingress, *columns, "--no-table-headers", check=False)
    if out.returncode != 0:
        return False
    rows = (line.split("\t") for line in out.stdout.decode().splitlines())
    return any(
        len(row) == 3
        and row[0] == EXCHANGE
        and row[1].startswith("federation:")
        and "call.received" in row[2]
        for row in rows
    )


def deprovision(ctl: Ctl, logins: BrokerLogins) -> None:
    """Delete the users and ingress vhosts `provision` made (the trust's vhost is the caller's)."""
    from mhp.definitions import ingress_vhost

    for user in logins.passwords:
        ctl("delete_user", user, check=False)
        if publishes_from_ingress(user):
            ctl("delete_vhost", ingress_vhost(user, logins.vhost), check=False)


def connection_users(ctl: Ctl, vhost: str) -> list[str]:
    """The login user of every client connection into `vhost` now, as the broker sees it."""
    out = ctl("list_connections", "user", "vhost", "--no-table-headers", check=False)
    if out.returncode != 0:
        raise ProvisioningError(out.stderr.decode(errors="replace").strip())
    rows = (line.split("\t") for line in out.stdout.decode().splitlines())
    return [row[0] for row in rows if len(row) == 2 and row[1] == vhost]
