"""The JSON shapes of RabbitMQ definitions objects that `mhp.definitions` assembles into one document."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from shared.contracts.routing import EXCHANGE


def federation_upstream(user: str, ingress: str, vhost: str) -> dict[str, Any]:
    # `amqp:///<vhost>` is a direct connection inside the node: no password in the definitions.
    # trust-user-id keeps the practice's broker-validated user_id, which consumers check.
    return {
        "vhost": vhost,
        "component": "federation-upstream",
        "name": user,
        "value": {
            "uri": f"amqp:///{quote(ingress, safe='')}",
            "trust-user-id": True,
            "ack-mode": "on-confirm",
            "max-hops": 1,
        },
    }


def federate_ingress_policy(vhost: str) -> dict[str, Any]:
    return {
        "vhost": vhost,
        "name": "mhp-federate-practice-ingress",
        "pattern": rf"^{re.escape(EXCHANGE)}$",
        "apply-to": "exchanges",
        "definition": {"federation-upstream-set": "all"},
        "priority": 0,
    }


def dead_letter_retention_policy(vhost: str, ttl_days: int, max_length: int) -> dict[str, Any]:
    """Dead letters hold whole bodies (a call's NHS number, date of birth, reason): keep them for a bounded
    time and number, long enough to investigate (`mhp dead-letters`), never indefinitely."""
    if ttl_days < 1 or max_length < 1:
        raise ValueError("dead-letter retention needs at least one day and one message")
    return {
        "vhost": vhost,
        "name": "mhp-dead-letter-retention",
        "pattern": r"\.dlq$",
        "apply-to": "queues",
        "definition": {"message-ttl": ttl_days * 86_400_000, "max-length": max_length},
        "priority": 0,
    }


def exchange(name: str, kind: str, vhost: str) -> dict[str, Any]:
    return {
        "name": name,
        "vhost": vhost,
        "type": kind,
        "durable": True,
        "auto_delete": False,
        "internal": False,
        "arguments": {},
    }


def queue(name: str, arguments: dict[str, Any], vhost: str) -> dict[str, Any]:
    return {"name": name, "vhost": vhost, "durable": True, "auto_delete": False, "arguments": arguments}


def binding(source: str, queue: str, key: str, vhost: str) -> dict[str, Any]:
    return {
        "source": source,
        "vhost": vhost,
        "destination": queue,
        "destination_type": "queue",
        "routing_key": key,
        "arguments": {},
    }
