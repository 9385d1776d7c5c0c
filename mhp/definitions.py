"""The RabbitMQ definitions document (users, permissions, exchanges, queues, bindings) built from the code.

`python -m mhp.definitions > deploy/rabbitmq/definitions.json` writes the committed, secret-free reference;
`--passwords-from-env` adds salted password hashes for a deployment (never commit that output).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mhp import broker_objects as objects
from mhp.broker_passwords import (
    HASHING_ALGORITHM,
    hash_password,
    password_env_var,
    passwords_from_dir,
    passwords_from_env,
)
from mhp.broker_permissions import (
    NOTHING,
    PRACTICE_EVENTS,
    literal,
    own_queues,
    pcn_routing_key_pattern,
    published_by,
    routing_key_pattern,
    service_exchanges,
)
from mhp.demo import DEMO_PCN, DEMO_PRACTICES
from mhp.platform import SERVICES
from shared.contracts.routing import DEAD_LETTER_EXCHANGE, EXCHANGE
from shared.messaging.senders import (
    ADMIN_USER,
    RECEIVING_SERVICES,
    partner_user,
    pcn_user,
    practice_user,
    service_user,
)
from shared.messaging.topology import QueueSpec

__all__ = [
    "ADMIN_USER",
    "hash_password",
    "password_env_var",
    "passwords_from_dir",
    "passwords_from_env",
    "pcn_routing_key_pattern",
    "pcn_user",
    "practice_user",
    "service_user",
]

DEFAULT_VHOST = "mhp"
DEAD_LETTER_TTL_DAYS = 30
DEAD_LETTER_MAX_LENGTH = 10_000


@dataclass(frozen=True)
class ServiceTopology:
    """What one service consumes: its queue specs, exactly as its ServiceHost would declare them."""

    service: str
    queues: tuple[QueueSpec, ...]


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
    practices: Mapping[str, Sequence[str]] | None = None,
    confined_booking: Iterable[str] = (),
    partners: Iterable[str] = (),
    vhost: str = DEFAULT_VHOST,
    passwords: Mapping[str, str] | None = None,
    dead_letter_ttl_days: int = DEAD_LETTER_TTL_DAYS,
    dead_letter_max_length: int = DEAD_LETTER_MAX_LENGTH,
) -> dict[str, Any]:
    """The definitions document for the trust's vhost and one ingress vhost per PCN.

    Users without a given password get none (cannot log in).
    `practices` (PCN code -> its practices' ODS codes) gives each practice its own user; `confined_booking`
    PCN codes each get a `mhp-booking-<pcn>` user for a booking deployment confined to that PCN's keys;
    `partners` (receiving services' organisation codes) each get a user that answers referrals.
    """
    passwords = passwords or {}
    pcns = sorted(set(pcn_codes) | set(practices or {}))
    users: list[dict[str, Any]] = []
    permissions: list[dict[str, Any]] = []
    topic_permissions: list[dict[str, Any]] = []

    def add_user(
        name: str, configure: str, write: str, read: str, topic_write: str | None, *, on: str = vhost
    ) -> None:
        user: dict[str, Any] = {"name": name, "tags": [], "limits": {}}
        if name in passwords:
            user["password_hash"] = hash_password(passwords[name])
            user["hashing_algorithm"] = HASHING_ALGORITHM
        users.append(user)
        permissions.append({"user": name, "vhost": on, "configure": configure, "write": write, "read": read})
        if topic_write is not None:
            # Checked on every publish to the topic exchange (write) and every binding to it (read): a user
            # with none would be unconfined, so every user but the admin gets one.
            topic_permissions.append(
                {"user": name, "vhost": on, "exchange": EXCHANGE, "write": topic_write, "read": NOTHING}
            )

    add_user(ADMIN_USER, ".*", ".*", ".*", None)
    # `impersonator`: `mhp dlq replay` republishes a dead letter with its original sender's user_id, so the
    # consumer's sender check passes; the administrator can already create any user, so it gains nothing.
    users[-1]["tags"] = ["administrator", "impersonator"]
    for topology in services:
        # No configure permission: with provisioned topology the service runs with
        # `<SERVICE>_DECLARE_TOPOLOGY=false`, so it cannot create, change or delete any broker object.
        events = published_by(topology.service)
        queues_of_service = own_queues(topology.service)
        topic = routing_key_pattern(events)
        add_user(service_user(topology.service), NOTHING, service_exchanges(), queues_of_service, topic)
        if topology.service == "booking":
            for pcn in sorted(set(confined_booking)):
                topic = routing_key_pattern(events, pcn_code=pcn)
                add_user(service_user("booking", pcn), NOTHING, service_exchanges(), queues_of_service, topic)

    # Practice systems never enter the trust's vhost: each publishes into an ingress vhost of its own, whose
    # exchange the trust's `mhp.events` federates from (so they cannot even see the trust's queues).
    vhosts = [{"name": vhost}]
    parameters: list[dict[str, Any]] = []
    exchanges = [
        objects.exchange(EXCHANGE, "topic", vhost),
        objects.exchange(DEAD_LETTER_EXCHANGE, "direct", vhost),
    ]

    def add_publisher(user: str, topic: str) -> None:
        ingress = ingress_vhost(user, vhost)
        vhosts.append({"name": ingress})
        exchanges.append(objects.exchange(EXCHANGE, "topic", ingress))
        parameters.append(objects.federation_upstream(user, ingress, vhost))
        permissions.append(
            {"user": ADMIN_USER, "vhost": ingress, "configure": ".*", "write": ".*", "read": ".*"}
        )
        add_user(user, NOTHING, rf"^{literal(EXCHANGE)}$", NOTHING, topic, on=ingress)

    for pcn in pcns:
        # A PCN-wide system: any practice of its PCN, the practice events only.
        add_publisher(pcn_user(pcn), pcn_routing_key_pattern(pcn, practices=(practices or {}).get(pcn, ())))
        for ods in sorted(set((practices or {}).get(pcn, ()))):
            # One practice's systems: its own practice segment only, so it cannot publish as a neighbour.
            add_publisher(
                practice_user(ods), routing_key_pattern(PRACTICE_EVENTS, pcn_code=pcn, practice_ods=ods)
            )
    for org in sorted(set(partners)):
        # A receiving service (crisis team, talking therapies) answers referrals, for any PCN's patients.
        add_publisher(partner_user(org), routing_key_pattern(published_by(RECEIVING_SERVICES)))

    queues: list[dict[str, Any]] = []
    bindings: list[dict[str, Any]] = []
    for topology in services:
        for spec in topology.queues:
            queues.append(objects.queue(spec.name, spec.arguments(), vhost))
            queues.append(objects.queue(spec.dead_letter_queue, {"x-queue-type": "quorum"}, vhost))
            bindings.append(objects.binding(DEAD_LETTER_EXCHANGE, spec.dead_letter_queue, spec.name, vhost))
            bindings.extend(objects.binding(EXCHANGE, spec.name, key, vhost) for key in spec.binding_keys)

    return {
        "users": users,
        "vhosts": vhosts,
        "permissions": permissions,
        "topic_permissions": topic_permissions,
        "parameters": parameters,
        "global_parameters": [],
        "policies": [
            objects.dead_letter_retention_policy(vhost, dead_letter_ttl_days, dead_letter_max_length),
            *([objects.federate_ingress_policy(vhost)] if pcns else []),
        ],
        "exchanges": exchanges,
        "queues": queues,
        "bindings": bindings,
    }


def ingress_vhost(user: str, vhost: str = DEFAULT_VHOST) -> str:
    """The vhost a practice's (or a PCN-wide) system publishes into, its own alone: `mhp-practice-y01234`.

    RabbitMQ answers a passive queue.declare without any permission check, so only a vhost of its own
    keeps a practice from seeing another organisation's queues and their depths.
    """
    return f"{vhost}-{user}"


def render(definitions: Mapping[str, Any]) -> str:
    return json.dumps(definitions, indent=2, sort_keys=False) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mhp.definitions", description=__doc__)
    parser.add_argument("--vhost", default=DEFAULT_VHOST)
    parser.add_argument(
        "--pcn", action="append", dest="pcns", help="PCN code given a publishing user (repeatable)"
    )
    parser.add_argument(
        "--practice",
        action="append",
        dest="practices",
        metavar="PCN:ODS",
        help="a practice of a PCN given its own publishing user (repeatable); default: the demo's",
    )
    parser.add_argument(
        "--confine-booking", action="append", default=[], metavar="PCN", help="a booking user for one PCN"
    )
    parser.add_argument(
        "--partner",
        action="append",
        default=[],
        metavar="ORG",
        help="a receiving service's user (repeatable)",
    )
    parser.add_argument("--dead-letter-ttl-days", type=int, default=DEAD_LETTER_TTL_DAYS)
    parser.add_argument("--dead-letter-max-length", type=int, default=DEAD_LETTER_MAX_LENGTH)
    secrets_from = parser.add_mutually_exclusive_group()
    secrets_from.add_argument(
        "--passwords-from-env",
        action="store_true",
        help="hash every user's password from RABBITMQ_PASSWORD_<USER> (output then holds secrets)",
    )
    secrets_from.add_argument(
        "--passwords-from-dir",
        metavar="DIR",
        help="hash every user's password from DIR/rabbitmq_password_<user> (compose or Kubernetes secrets)",
    )
    parser.add_argument("--output", help="write here (mode 0644) instead of stdout")
    args = parser.parse_args(argv)

    services = discover_services()
    practices = _practices(args.practices) if args.practices else {DEMO_PCN: list(DEMO_PRACTICES)}
    pcns = args.pcns or sorted(practices) or [DEMO_PCN]
    users = [
        ADMIN_USER,
        *(service_user(s.service) for s in services),
        *(service_user("booking", p) for p in args.confine_booking),
        *(pcn_user(p) for p in sorted(set(pcns) | set(practices))),
        *(practice_user(o) for p in sorted(practices) for o in practices[p]),
        *(partner_user(o) for o in args.partner),
    ]
    passwords = None
    if args.passwords_from_env:
        passwords = passwords_from_env(users)
    elif args.passwords_from_dir:
        passwords = passwords_from_dir(users, Path(args.passwords_from_dir))
    definitions = build_definitions(
        services,
        pcns,
        practices=practices,
        confined_booking=args.confine_booking,
        partners=args.partner,
        vhost=args.vhost,
        passwords=passwords,
        dead_letter_ttl_days=args.dead_letter_ttl_days,
        dead_letter_max_length=args.dead_letter_max_length,
    )
    text = render(definitions)
    if args.output:
        # RabbitMQ reads the file as its own user: readable, but only salted hashes are in it.
        with open(os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), "w") as out:
            out.write(text)
    else:
        sys.stdout.write(text)


def _practices(pairs: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for pair in pairs:
        pcn, _, ods = pair.partition(":")
        found.setdefault(pcn, []).append(ods)
    return found


if __name__ == "__main__":
    main()
