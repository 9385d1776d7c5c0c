"""The RabbitMQ definitions document (users, permissions, exchanges, queues, bindings) built from the code.

`python -m mhp.definitions > deploy/rabbitmq/definitions.json` writes the committed, secret-free reference;
`--passwords-from-env` adds salted password hashes for a deployment (never commit that output).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib
import importlib.util
import json
import os
import re
import secrets
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mhp.demo import DEMO_PCN
from mhp.platform import SERVICES
from shared.contracts.envelope import Envelope
from shared.contracts.routing import DEAD_LETTER_EXCHANGE, EXCHANGE
from shared.contracts.v1 import (
    AppointmentAttended,
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentDna,
    CallReceived,
)
from shared.messaging.topology import QueueSpec

DEFAULT_VHOST = "mhp"
ADMIN_USER = "mhp-admin"
HASHING_ALGORITHM = "rabbit_password_hashing_sha256"
PCN_CODE = re.compile(r"^[A-Z][A-Z0-9]{5}$")
NOTHING = "^$"

PRACTICE_EVENTS: tuple[type[Envelope[Any]], ...] = (
    CallReceived,
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentAttended,
    AppointmentDna,
)
"""What practice systems publish (the event catalogue); anything else (`call.triaged`…) is refused."""


@dataclass(frozen=True)
class ServiceTopology:
    """What one service consumes: its queue specs, exactly as its ServiceHost would declare them."""

    service: str
    queues: tuple[QueueSpec, ...]


def service_user(service: str) -> str:
    return f"mhp-{service}"


def pcn_user(pcn_code: str) -> str:
    return f"pcn-{pcn_code.lower()}"


def password_env_var(user: str) -> str:
    """`mhp-triage` → `RABBITMQ_PASSWORD_MHP_TRIAGE`: where `--passwords-from-env` reads a user's password."""
    return "RABBITMQ_PASSWORD_" + re.sub(r"[^A-Z0-9]", "_", user.upper())


def hash_password(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt + sha256(salt + password)), 4-byte salt."""
    salt = salt if salt is not None else secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def pcn_routing_key_pattern(pcn_code: str, events: Sequence[type[Envelope[Any]]] = PRACTICE_EVENTS) -> str:
    """Routing keys a PCN's systems may publish: `<event_type>.v<major>.<pcn>.<practice>`, own PCN only."""
    if not PCN_CODE.fullmatch(pcn_code):
        raise ValueError(f"PCN code {pcn_code!r} is not an ODS code like U00123")
    heads = "|".join(f"{_literal(e.EVENT_TYPE)}\\.v{e.MAJOR}" for e in events)
    return rf"^({heads})\.{pcn_code}\.[A-Z]\d{{5}}$"


def _literal(name: str) -> str:
    # Resource names here are [a-z.-]; only the dot is special in a RabbitMQ (PCRE) permission regex.
    return name.replace(".", r"\.")


def _own_queues(service: str) -> str:
    return rf"^{_literal(service)}\..+$"


def _exchanges() -> str:
    # Publishing events, and dead-lettering a poison message with its reason, write to these two.
    return rf"^({_literal(EXCHANGE)}|{_literal(DEAD_LETTER_EXCHANGE)})$"


def discover_services(delivery_limit: int | None = None) -> list[ServiceTopology]:
    """Import each `services.<name>.bootstrap` that exists and read its subscriptions' queue specs."""
    found = []
    for spec in SERVICES:
        module_name = f"services.{spec.name}.bootstrap"
        if (
            importlib.util.find_spec(f"services.{spec.name}") is None
            or importlib.util.find_spec(module_name) is None
        ):
            continue
        bootstrap = importlib.import_module(module_name)
        settings_module = importlib.import_module(f"services.{spec.name}.settings")
        settings_class = getattr(settings_module, f"{spec.name.capitalize()}Settings")
        limit = delivery_limit or int(settings_class.model_fields["delivery_limit"].default)
        # An in-memory database: building the host must not create files; nothing connects at build time.
        settings = settings_class(database_url="sqlite+aiosqlite:///:memory:", delivery_limit=limit)
        host = bootstrap.build_host(settings)
        service = str(bootstrap.SERVICE)
        queues = tuple(sub.queue_spec(service, limit) for sub in host.subscriptions)
        found.append(ServiceTopology(service, queues))
    return found


def build_definitions(
    services: Sequence[ServiceTopology],
    pcn_codes: Iterable[str],
    *,
    vhost: str = DEFAULT_VHOST,
    passwords: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The definitions document for one vhost. Users without a given password get none (cannot log in)."""
    passwords = passwords or {}
    pcns = sorted(set(pcn_codes))
    users: list[dict[str, Any]] = []
    permissions: list[dict[str, Any]] = []
    topic_permissions: list[dict[str, Any]] = []

    def add_user(name: str, tags: list[str], configure: str, write: str, read: str) -> None:
        user: dict[str, Any] = {"name": name, "tags": tags, "limits": {}}
        if name in passwords:
            user["password_hash"] = hash_password(passwords[name])
            user["hashing_algorithm"] = HASHING_ALGORITHM
        users.append(user)
        permissions.append(
            {"user": name, "vhost": vhost, "configure": configure, "write": write, "read": read}
        )

    add_user(ADMIN_USER, ["administrator"], ".*", ".*", ".*")
    for topology in services:
        # No configure permission: with provisioned topology the service runs with
        # `<SERVICE>_DECLARE_TOPOLOGY=false`, so it cannot create, change or delete any broker object.
        add_user(service_user(topology.service), [], NOTHING, _exchanges(), _own_queues(topology.service))
    for pcn in pcns:
        # Practice systems publish to the events exchange only; the topic permission pins the PCN segment.
        add_user(pcn_user(pcn), [], NOTHING, rf"^{_literal(EXCHANGE)}$", NOTHING)
        topic_permissions.append(
            {
                "user": pcn_user(pcn),
                "vhost": vhost,
                "exchange": EXCHANGE,
                "write": pcn_routing_key_pattern(pcn),
                "read": NOTHING,
            }
        )

    exchanges = [
        _exchange(EXCHANGE, "topic", vhost),
        _exchange(DEAD_LETTER_EXCHANGE, "direct", vhost),
    ]
    queues: list[dict[str, Any]] = []
    bindings: list[dict[str, Any]] = []
    for topology in services:
        for spec in topology.queues:
            queues.append(_queue(spec.name, spec.arguments(), vhost))
            queues.append(_queue(spec.dead_letter_queue, {"x-queue-type": "quorum"}, vhost))
            bindings.append(_binding(DEAD_LETTER_EXCHANGE, spec.dead_letter_queue, spec.name, vhost))
            bindings.extend(_binding(EXCHANGE, spec.name, key, vhost) for key in spec.binding_keys)

    return {
        "users": users,
        "vhosts": [{"name": vhost}],
        "permissions": permissions,
        "topic_permissions": topic_permissions,
        "parameters": [],
        "global_parameters": [],
        "policies": [],
        "exchanges": exchanges,
        "queues": queues,
        "bindings": bindings,
    }


def _exchange(name: str, kind: str, vhost: str) -> dict[str, Any]:
    return {
        "name": name,
        "vhost": vhost,
        "type": kind,
        "durable": True,
        "auto_delete": False,
        "internal": False,
        "arguments": {},
    }


def _queue(name: str, arguments: dict[str, Any], vhost: str) -> dict[str, Any]:
    return {"name": name, "vhost": vhost, "durable": True, "auto_delete": False, "arguments": arguments}


def _binding(source: str, queue: str, key: str, vhost: str) -> dict[str, Any]:
    return {
        "source": source,
        "vhost": vhost,
        "destination": queue,
        "destination_type": "queue",
        "routing_key": key,
        "arguments": {},
    }


def passwords_from_env(users: Iterable[str], env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every user's password from `RABBITMQ_PASSWORD_<USER>`; a missing one is an error (fail closed)."""
    env = os.environ if env is None else env
    missing = [password_env_var(u) for u in users if not env.get(password_env_var(u))]
    if missing:
        raise SystemExit(f"missing passwords in the environment: {', '.join(missing)}")
    return {u: env[password_env_var(u)] for u in users}


def render(definitions: Mapping[str, Any]) -> str:
    return json.dumps(definitions, indent=2, sort_keys=False) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mhp.definitions", description=__doc__)
    parser.add_argument("--vhost", default=DEFAULT_VHOST)
    parser.add_argument(
        "--pcn", action="append", dest="pcns", help="PCN code given a publishing user (repeatable)"
    )
    parser.add_argument(
        "--passwords-from-env",
        action="store_true",
        help="hash every user's password from RABBITMQ_PASSWORD_<USER> (output then holds secrets)",
    )
    parser.add_argument("--output", help="write here (mode 0644) instead of stdout")
    args = parser.parse_args(argv)

    services = discover_services()
    pcns = args.pcns or [DEMO_PCN]
    users = [ADMIN_USER, *(service_user(s.service) for s in services), *(pcn_user(p) for p in pcns)]
    passwords = passwords_from_env(users) if args.passwords_from_env else None
    text = render(build_definitions(services, pcns, vhost=args.vhost, passwords=passwords))
    if args.output:
        # RabbitMQ reads the file as its own user: readable, but only salted hashes are in it.
        with open(os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), "w") as out:
            out.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
