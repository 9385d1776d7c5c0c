"""`mhp dlq list|show|replay|discard`: the operator's commands over dead letters (logic in mhp/dlq.py)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from mhp import dlq
from shared.logging import configure_logging
from shared.messaging.dead_letter_alarm import event_type_label, read_json

app = typer.Typer(help="Dead letters: list, show, replay (after a fix) or discard; every action audited.")
console = Console(stderr=True)
T = TypeVar("T")


@app.callback()
def _logging() -> None:
    # Actions are logged as well as audited: to stderr, so `list --json` output stays clean.
    configure_logging("mhp-dlq", level="INFO")


UrlOption = Annotated[
    str | None,
    typer.Option(envvar="RABBITMQ_URL", help="Operator's broker URL (default: `mhp up`'s admin login)."),
]
OperatorOption = Annotated[str | None, typer.Option(help="Who acts (default: the OS user); audited.")]
RunDirOption = Annotated[Path | None, typer.Option(help="Where `mhp up` keeps its broker logins.")]


def _url(amqp_url: str | None, run_dir: Path | None) -> str:
    if amqp_url:
        return amqp_url
    from mhp.cli import DEFAULT_RUN_DIR, _provisioned_logins
    from mhp.simulation import DEFAULT_AMQP_URL

    provisioned = _provisioned_logins(run_dir or DEFAULT_RUN_DIR)
    return provisioned.admin_url if provisioned else DEFAULT_AMQP_URL


def _queues() -> list[str]:
    from mhp.definitions import discover_services

    return [spec.dead_letter_queue for service in discover_services() for spec in service.queues]


def _with_taken(url: str, action: Callable[[dlq.Taken], Awaitable[T]]) -> T:
    async def run() -> T:
        async with dlq.taken(url, _queues()) as taken:
            return await action(taken)

    return asyncio.run(run())


def _age(at: Any) -> str:
    try:
        seconds = (datetime.now(UTC) - datetime.fromisoformat(str(at))).total_seconds()
    except ValueError:
        return "?"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


def _fail(action: str, operator: str, ref: str, exc: dlq.DlqError) -> None:
    dlq.audit(action, operator, "refused", message_id=ref, error=str(exc))
    console.print(f"[red]{exc}[/red]")
    raise typer.Exit(1)


@app.command("list")
def list_(
    amqp_url: UrlOption = None,
    operator: OperatorOption = None,
    run_dir: RunDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per dead letter.")] = False,
) -> None:
    """Every dead letter: id, queues, event type, reason, age. Never identity. A peek: nothing removed."""

    async def rows(taken: dlq.Taken) -> list[dict[str, Any]]:
        grouped: dict[str, dict[str, Any]] = {}
        for position, copy in enumerate(taken.copies):
            row = grouped.setdefault(
                copy.ref,
                {
                    "id": copy.ref,
                    "position": position,
                    "event_type": event_type_label(read_json(copy.message.body)),
                    "queues": [],
                    "reasons": [],
                    "age": _age(copy.headers.get("x-mhp-dead-lettered-at")),
                },
            )
            row["queues"].append(copy.dlq)
            if copy.reason not in row["reasons"]:
                row["reasons"].append(copy.reason)
        return list(grouped.values())

    who = dlq.operator_name(operator)
    found = _with_taken(_url(amqp_url, run_dir), rows)
    dlq.audit("list", who, "listed", count=len(found))
    if as_json:
        for row in found:
            sys.stdout.write(json.dumps(row) + "\n")
        return
    table = Table("#", "id", "event type", "queues", "reasons", "age")
    for row in found:
        table.add_row(
            str(row["position"]),
            row["id"],
            row["event_type"],
            "\n".join(row["queues"]),
            "\n".join(row["reasons"]),
            row["age"],
        )
    Console(width=200).print(table)
    console.print(f"{len(found)} dead letters")


@app.command()
def show(
    message_id: Annotated[str, typer.Argument(help="The id `mhp dlq list` shows.")],
    identity: Annotated[bool, typer.Option(help="Print the patient and free text too (audited).")] = False,
    amqp_url: UrlOption = None,
    operator: OperatorOption = None,
    run_dir: RunDirOption = None,
) -> None:
    """Print one dead letter's envelope, patient and free text redacted unless --identity."""
    who = dlq.operator_name(operator)

    async def body(taken: dlq.Taken) -> tuple[bytes, list[str], list[str]]:
        copies = taken.find(message_id)
        return copies[0].message.body, [c.dlq for c in copies], sorted({c.reason for c in copies})

    try:
        raw, queues, reasons = _with_taken(_url(amqp_url, run_dir), body)
    except dlq.DlqError as exc:
        _fail("show", who, message_id, exc)
        return
    dlq.audit("show", who, "shown", message_id=message_id, queues=queues, identity=identity)
    document = {"queues": queues, "reasons": reasons, "envelope": dlq.redact(raw, identity=identity)}
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


@app.command()
def replay(
    message_id: Annotated[str, typer.Argument(help="The id `mhp dlq list` shows.")],
    fixed: Annotated[Path | None, typer.Option(help="A JSON file: the corrected envelope to send.")] = None,
    amqp_url: UrlOption = None,
    operator: OperatorOption = None,
    run_dir: RunDirOption = None,
) -> None:
    """Republish a dead letter (or its fix) as its original sender; removed from its DLQs once confirmed."""
    who = dlq.operator_name(operator)
    fixed_body = fixed.read_bytes() if fixed is not None else None
    try:
        copies = _with_taken(_url(amqp_url, run_dir), lambda t: dlq.replay(t, message_id, fixed_body))
    except dlq.DlqError as exc:
        _fail("replay", who, message_id, exc)
        return
    queues = [c.dlq for c in copies]
    dlq.audit("replay", who, "replayed", message_id=message_id, queues=queues, fixed=fixed is not None)
    console.print(f"replayed {message_id}; removed from {', '.join(queues)}")


@app.command()
def discard(
    message_id: Annotated[str, typer.Argument(help="The id `mhp dlq list` shows.")],
    reason: Annotated[str, typer.Option(help="Why it is discarded (audited).")],
    amqp_url: UrlOption = None,
    operator: OperatorOption = None,
    run_dir: RunDirOption = None,
) -> None:
    """Remove a dead letter from every DLQ holding it, with a reason."""
    who = dlq.operator_name(operator)
    try:
        copies = _with_taken(_url(amqp_url, run_dir), lambda t: dlq.discard(t, message_id))
    except dlq.DlqError as exc:
        _fail("discard", who, message_id, exc)
        return
    queues = [c.dlq for c in copies]
    dlq.audit("discard", who, "discarded", message_id=message_id, queues=queues, reason=reason)
    console.print(f"discarded {message_id} from {', '.join(queues)}")
