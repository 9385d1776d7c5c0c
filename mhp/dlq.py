"""`mhp dlq`: inspect, replay and discard dead letters, every action audited (who, what, which id, when).

A dead letter is named by its message id (the event id), the id `mhp dlq list` shows; its copies in every
DLQ (one per consumer that refused it) are handled together. Replay republishes to `mhp.events` with the
original routing key and the original sender's AMQP user_id (the operator's login is tagged
`impersonator`), so consumers' sender checks pass; the copies leave their DLQs only after the broker
confirmed the publish. Messages are taken unacknowledged: all but the acted-on ones go back to their queues.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from pamqp.commands import Basic

from shared.contracts.registry import ContractError, model_for, parse_event
from shared.contracts.routing import EXCHANGE
from shared.logging import get_logger
from shared.messaging.dead_letter_alarm import (
    BODY_HASH_HEADER,
    ORIGINAL_USER_HEADER,
    REASON_HEADER,
    event_type_label,
    read_json,
)

log = get_logger("mhp.dlq")

DEFAULT_AUDIT_FILE = Path(__file__).resolve().parents[1] / "var" / "audit" / "dlq.jsonl"
REDACTED = "[redacted]"


class DlqError(RuntimeError):
    """An operator action that cannot be done; the message holds no message body."""


def audit_file() -> Path:
    return Path(os.environ.get("MHP_DLQ_AUDIT_FILE") or DEFAULT_AUDIT_FILE)


def operator_name(given: str | None) -> str:
    if given:
        return given
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def audit(action: str, operator: str, outcome: str, **fields: Any) -> None:
    """Append one JSON line (never a body) to the audit file, and log it."""
    record = {"at": datetime.now(UTC).isoformat(), "operator": operator, "action": action, "outcome": outcome}
    record.update(fields)
    path = audit_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: records are only ever added; 0600: who looked at what is itself sensitive.
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    log.info("dlq_action", **{k: v for k, v in record.items() if k != "reason"})


@dataclass
class Copy:
    """One dead-lettered copy, held unacknowledged on the taking channel."""

    dlq: str
    message: AbstractIncomingMessage

    @property
    def headers(self) -> dict[str, Any]:
        return dict(self.message.headers or {})

    @property
    def routing_key(self) -> str:
        header = self.headers.get("x-mhp-routing-key")
        if header:
            return str(header)
        deaths = self.headers.get("x-death") or []  # dead-lettered by the broker (delivery limit)
        keys = deaths[0].get("routing-keys") if deaths and isinstance(deaths[0], dict) else None
        return str(keys[0]) if keys else str(self.message.routing_key or "")

    @property
    def original_user(self) -> str | None:
        found = self.headers.get(ORIGINAL_USER_HEADER) or self.message.user_id
        return str(found) if found else None

    @property
    def reason(self) -> str:
        return str(self.headers.get(REASON_HEADER, "dead-lettered by the broker (delivery limit)"))

    @property
    def ref(self) -> str:
        return str(self.message.message_id or f"sha256:{self.headers.get(BODY_HASH_HEADER, '?')}")


@asynccontextmanager
async def taken(url: str, queues: Iterable[str], *, limit: int = 10_000) -> AsyncIterator[Taken]:
    """Every message of the DLQs, unacknowledged; whatever is not acked returns when the block ends."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        copies: list[Copy] = []
        for name in queues:
            probe = await connection.channel()
            try:
                await probe.declare_queue(name, passive=True)
            except aio_pika.exceptions.ChannelClosed:
                continue  # not provisioned on this broker
            await probe.close()
            queue = await channel.declare_queue(name, passive=True)
            for _ in range(limit):
                message = await queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                copies.append(Copy(name, message))
        try:
            yield Taken(connection_channel=channel, copies=copies, url=url)
        finally:
            if not channel.is_closed:
                await channel.close()  # unacknowledged: back to their queues


@dataclass
class Taken:
    connection_channel: AbstractChannel
    copies: list[Copy]
    url: str

    def find(self, ref: str) -> list[Copy]:
        found = [copy for copy in self.copies if copy.ref == ref]
        if not found:
            raise DlqError(f"no dead letter {ref} (see `mhp dlq list`)")
        hashes = {copy.headers.get(BODY_HASH_HEADER) for copy in found}
        if len(hashes) > 1:
            raise DlqError(f"{ref} names dead letters with different bodies; discard or fix them one by one")
        return found


def redact(body: bytes, *, identity: bool) -> Any:
    """The envelope for a person to read: patient and free text redacted unless `identity`."""
    raw = read_json(body)
    if raw is None:
        return (
            body.decode(errors="replace") if identity else f"{REDACTED}: {len(body)} bytes, not a JSON object"
        )
    if identity:
        return raw
    label = event_type_label(raw)
    schema = model_for(label).model_json_schema() if label != "unknown" else None
    return _redact(raw, schema, schema)


def _resolve(schema: dict[str, Any] | None, root: dict[str, Any] | None) -> dict[str, Any] | None:
    while schema is not None and "$ref" in schema and root is not None:
        schema = root.get("$defs", {}).get(schema["$ref"].rsplit("/", 1)[-1])
    if schema is not None and "anyOf" in schema:  # optional fields: the non-null branch
        branches = [b for b in schema["anyOf"] if b.get("type") != "null"]
        return _resolve(branches[0], root) if branches else None
    return schema


def _redact(value: Any, schema: dict[str, Any] | None, root: dict[str, Any] | None, key: str = "") -> Any:
    schema = _resolve(schema, root)
    if key == "patient":
        return REDACTED
    if isinstance(value, dict):
        properties = (schema or {}).get("properties", {})
        return {
            k: _redact(v, properties.get(k), root, k) if k in properties else REDACTED
            for k, v in value.items()
        }
    if isinstance(value, list):
        items = (schema or {}).get("items")
        return [_redact(v, items, root) for v in value]
    if isinstance(value, str):
        # Structured strings (enums, ids, instants, codes) stay; free text and unknown fields do not.
        structured = schema is not None and any(k in schema for k in ("enum", "const", "format", "pattern"))
        return value if structured else REDACTED
    return value if schema is not None else REDACTED


async def replay(taken_now: Taken, ref: str, fixed: bytes | None) -> list[Copy]:
    """Republish (the fix, or the original body) and ack the copies once the broker confirmed it."""
    copies = taken_now.find(ref)
    first = copies[0]
    body = fixed if fixed is not None else first.message.body
    message_id = first.message.message_id
    correlation_id = first.message.correlation_id
    if fixed is not None:
        try:
            event = parse_event(fixed)  # a fix that still fails the contract would only dead-letter again
        except ContractError as exc:
            raise DlqError(f"the fixed message is not a valid event: {exc.reason}") from None
        if event.routing_key != first.routing_key:
            raise DlqError("a fix may not change the event type, PCN or practice (its routing key)")
        if message_id and not message_id.startswith("sha256:") and str(event.event_id) != message_id:
            raise DlqError("a fix must keep the event_id (consumers deduplicate on it)")
        message_id, correlation_id = str(event.event_id), str(event.correlation_id)
    connection = await aio_pika.connect(taken_now.url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(EXCHANGE, ensure=False)
        try:
            confirmation = await asyncio.wait_for(
                exchange.publish(
                    aio_pika.Message(
                        body,
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        message_id=message_id,
                        correlation_id=correlation_id,
                        type=first.message.type,
                        user_id=first.original_user,
                        headers={"x-mhp-replayed": True},
                    ),
                    routing_key=first.routing_key,
                    mandatory=True,
                ),
                timeout=10,
            )
        except Exception as exc:
            raise DlqError(f"the broker did not take the replay ({type(exc).__name__})") from None
    if not isinstance(confirmation, Basic.Ack):
        raise DlqError("the broker did not confirm the replay")
    for copy in copies:
        await copy.message.ack()
    return copies


async def discard(taken_now: Taken, ref: str) -> list[Copy]:
    copies = taken_now.find(ref)
    for copy in copies:
        await copy.message.ack()
    return copies
