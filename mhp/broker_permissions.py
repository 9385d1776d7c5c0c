"""RabbitMQ permission regexes from the publication table: which routing keys, queues and exchanges."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from shared.contracts.envelope import Envelope
from shared.contracts.registry import REGISTRY
from shared.contracts.routing import DEAD_LETTER_EXCHANGE, EXCHANGE
from shared.messaging.senders import PRACTICE_SYSTEMS, PUBLISHED_BY

PCN_CODE = re.compile(r"^[A-Z][A-Z0-9]{5}$")
PRACTICE_ODS = re.compile(r"^[A-Z]\d{5}$")
NOTHING = "^$"


def published_by(publisher: str) -> tuple[type[Envelope[Any]], ...]:
    """Every contract (type and major) that `publisher` (a service, or practice systems) may publish."""
    return tuple(
        model for (event_type, _), model in sorted(REGISTRY.items()) if publisher in PUBLISHED_BY[event_type]
    )


PRACTICE_EVENTS = published_by(PRACTICE_SYSTEMS)
"""What practice systems publish (the event catalogue); anything else (`call.triaged`…) is refused."""


def routing_key_pattern(
    events: Sequence[type[Envelope[Any]]],
    *,
    pcn_code: str | None = None,
    practice_ods: str | Sequence[str] | None = None,
) -> str:
    """Routing keys `<event_type>.v<major>.<pcn>.<practice>` of these events, maybe one PCN or practice(s)."""
    if pcn_code is not None and not PCN_CODE.fullmatch(pcn_code):
        raise ValueError(f"PCN code {pcn_code!r} is not an ODS code like U00123")
    practices = [practice_ods] if isinstance(practice_ods, str) else sorted(practice_ods or ())
    for ods in practices:
        if not PRACTICE_ODS.fullmatch(ods):
            raise ValueError(f"practice {ods!r} is not an ODS code like Y01234")
    if not events:
        return NOTHING
    heads = "|".join(f"{literal(e.EVENT_TYPE)}\\.v{e.MAJOR}" for e in events)
    pcn = pcn_code or r"U\d{5}"
    practice = f"({'|'.join(practices)})" if practices else r"[A-Z]\d{5}"
    return rf"^({heads})\.{pcn}\.{practice}$"


def pcn_routing_key_pattern(
    pcn_code: str, events: Sequence[type[Envelope[Any]]] = PRACTICE_EVENTS, practices: Sequence[str] = ()
) -> str:
    """Routing keys a PCN's systems may publish: its own PCN, and only its practices where they are known."""
    if not PCN_CODE.fullmatch(pcn_code):
        raise ValueError(f"PCN code {pcn_code!r} is not an ODS code like U00123")
    return routing_key_pattern(events, pcn_code=pcn_code, practice_ods=practices)


def literal(name: str) -> str:
    # Resource names here are [a-z.-]; only the dot is special in a RabbitMQ (PCRE) permission regex.
    return name.replace(".", r"\.")


def own_queues(service: str) -> str:
    return rf"^{literal(service)}\..+$"


def service_exchanges() -> str:
    # Publishing events, and dead-lettering a poison message with its reason, write to these two.
    return rf"^({literal(EXCHANGE)}|{literal(DEAD_LETTER_EXCHANGE)})$"
