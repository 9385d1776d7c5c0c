"""`mhp dlq` on a real broker: a `call.received` triage dead-lettered is counted, escalated to the platform
operator, listed without identity, shown with identity only on request, fixed, replayed as its practice
and then triaged, the DLQ left empty; another is discarded; every action is in the audit file. A replay
keeps the original sender's user_id, which a login with the definitions' admin tags may set and another
may not (then the dead letter stays)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from typer.testing import CliRunner

from mhp.broker import VhostAdmin
from mhp.cli import app
from mhp.definitions import ADMIN_USER, build_definitions
from services.triage.adapters.tables import TriageCall
from services.triage.bootstrap import TriageHost, build_host
from services.triage.settings import TriageSettings
from shared.contracts.routing import binding_key
from shared.contracts.v1 import CaseEscalated
from tests.support.amqp import EventCapture, eventually, publish_raw, queue_depth
from tests.support.clock import FakeClock
from tests.support.factories import call_received

pytestmark = pytest.mark.integration

QUEUE = "triage.on_call_received"
DLQ = f"{QUEUE}.dlq"
PRACTICE_USER = "practice-y01234"


@pytest.fixture
async def triage(amqp_url: str, make_database_url: Callable[[str], str]) -> AsyncIterator[TriageHost]:
    settings = TriageSettings(
        rabbitmq_url=amqp_url, database_url=make_database_url("triage"), relay_poll_seconds=0.1
    )
    host = build_host(settings, clock=FakeClock())
    await host.start()
    yield host
    await host.stop()


def _implausible_call() -> tuple[dict[str, Any], str]:
    """A practice's call.received with an impossible date of birth: triage's contract refuses it."""
    event = call_received()
    raw = json.loads(event.model_dump_json())
    raw["data"]["patient"]["date_of_birth"] = "1850-01-01"
    return raw, event.routing_key


async def _publish_as_practice(url: str, raw: dict[str, Any], routing_key: str) -> None:
    await publish_raw(
        url,
        json.dumps(raw).encode(),
        routing_key=routing_key,
        message_id=raw["event_id"],
        correlation_id=raw["correlation_id"],
        message_type="call.received",
        user_id=PRACTICE_USER,
    )


async def _mhp(env: dict[str, str], *args: str) -> Any:
    # The CLI runs its own event loop (asyncio.run): off this test's loop, in a thread.
    result = await asyncio.to_thread(CliRunner().invoke, app, ["dlq", *args], env=env)
    assert result.exit_code == 0, result.output
    return result


def _dead_letters_counted() -> float:
    labels = {"service": "triage", "queue": QUEUE, "event_type": "call.received", "reason": "contract"}
    return REGISTRY.get_sample_value("mhp_dead_letters_total", labels) or 0.0


async def test_a_dead_lettered_call_is_escalated_inspected_fixed_replayed_and_triaged(
    triage: TriageHost, amqp_url: str, tmp_path: Path
) -> None:
    audit_file = tmp_path / "dlq.jsonl"
    env = {"RABBITMQ_URL": amqp_url, "MHP_DLQ_AUDIT_FILE": str(audit_file)}
    raw, routing_key = _implausible_call()
    nhs_number, reason = raw["data"]["patient"]["nhs_number"], raw["data"]["reason"]
    counted = _dead_letters_counted()

    async with EventCapture(amqp_url, binding_key("case.escalated")) as capture:
        await _publish_as_practice(amqp_url, raw, routing_key)
        [escalated] = await capture.wait_for(1)
    await eventually(lambda: _dead_letters_counted() == counted + 1, message="dead letter not counted")
    escalation = CaseEscalated.model_validate_json(escalated.body)
    assert (escalation.data.target.value, escalation.data.reason.value) == (
        "platform_operator",
        "dead_letter",
    )
    assert str(escalation.causation_id) == raw["event_id"]
    assert nhs_number not in escalated.body.decode()
    assert await queue_depth(amqp_url, DLQ) == 1

    listed = await _mhp(env, "list", "--json", "--operator", "ops.jo")
    [row] = [json.loads(line) for line in listed.stdout.splitlines() if line.startswith("{")]
    assert (row["id"], row["event_type"], row["queues"]) == (raw["event_id"], "call.received", [DLQ])
    assert "date_of_birth" in row["reasons"][0]
    assert nhs_number not in listed.output

    shown = json.loads((await _mhp(env, "show", raw["event_id"], "--operator", "ops.jo")).stdout)
    assert shown["envelope"]["data"]["patient"] == "[redacted]"
    assert shown["envelope"]["data"]["reason"] == "[redacted]"
    assert shown["envelope"]["data"]["call_id"] == raw["data"]["call_id"]
    assert nhs_number not in json.dumps(shown)
    with_identity = await _mhp(env, "show", raw["event_id"], "--identity", "--operator", "ops.jo")
    assert nhs_number in with_identity.stdout
    assert reason in with_identity.stdout

    raw["data"]["patient"]["date_of_birth"] = "1985-06-01"
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(raw))
    await _mhp(env, "replay", raw["event_id"], "--fixed", str(fixed), "--operator", "ops.jo")

    async def triaged() -> bool:
        async with triage.db.read() as session:
            return await session.get(TriageCall, uuid.UUID(raw["data"]["call_id"])) is not None

    await eventually(triaged, message="the replayed call never reached triage's worklist")
    assert await queue_depth(amqp_url, DLQ) == 0

    other, other_key = _implausible_call()
    await _publish_as_practice(amqp_url, other, other_key)
    await eventually(lambda: _depth_is(amqp_url, 1), message="second call not dead-lettered")
    await _mhp(env, "discard", other["event_id"], "--reason", "test message", "--operator", "ops.jo")
    assert await queue_depth(amqp_url, DLQ) == 0

    records = [json.loads(line) for line in audit_file.read_text().splitlines()]
    actions = [(r["action"], r["outcome"], r.get("message_id")) for r in records]
    assert actions == [
        ("list", "listed", None),
        ("show", "shown", raw["event_id"]),
        ("show", "shown", raw["event_id"]),
        ("replay", "replayed", raw["event_id"]),
        ("discard", "discarded", other["event_id"]),
    ]
    assert {r["operator"] for r in records} == {"ops.jo"}
    assert [r["identity"] for r in records if r["action"] == "show"] == [False, True]
    assert records[-1]["reason"] == "test message"
    assert nhs_number not in audit_file.read_text()


async def _depth_is(url: str, depth: int) -> bool:
    return await queue_depth(url, DLQ) == depth


async def test_a_replay_keeps_the_original_sender_only_for_a_login_with_the_admin_tags(
    triage: TriageHost, amqp_url: str, broker: tuple[str, VhostAdmin | None], tmp_path: Path
) -> None:
    node = broker[1]
    ctl = getattr(node, "ctl", None)
    if ctl is None:
        pytest.skip("no rabbitmqctl-capable node to create operator logins on")
    vhost = amqp_url.rsplit("/", 1)[1]
    [admin] = [u for u in build_definitions([], [], vhost=vhost)["users"] if u["name"] == ADMIN_USER]
    suffix = uuid.uuid4().hex[:8]
    logins = {f"dlq-ops-{suffix}": admin["tags"], f"dlq-plain-{suffix}": ["administrator"]}
    for user, tags in logins.items():
        ctl("add_user", user, "pw")
        ctl("set_user_tags", user, *tags)
        ctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
    try:
        raw, routing_key = _implausible_call()
        await _publish_as_practice(amqp_url, raw, routing_key)
        await eventually(lambda: _depth_is(amqp_url, 1), message="call not dead-lettered")
        raw["data"]["patient"]["date_of_birth"] = "1985-06-01"
        fixed = tmp_path / "fixed.json"
        fixed.write_text(json.dumps(raw))
        env = {"MHP_DLQ_AUDIT_FILE": str(tmp_path / "dlq.jsonl")}

        def url_of(user: str) -> str:
            return amqp_url.replace("guest:guest@", f"{user}:pw@")

        plain = [f"--amqp-url={url_of(f'dlq-plain-{suffix}')}", "--fixed", str(fixed)]
        refused = await asyncio.to_thread(
            CliRunner().invoke, app, ["dlq", "replay", raw["event_id"], *plain], env=env
        )
        assert refused.exit_code == 1
        assert await queue_depth(amqp_url, DLQ) == 1  # not confirmed: still there

        await _mhp(
            env, "replay", raw["event_id"], f"--amqp-url={url_of(f'dlq-ops-{suffix}')}", "--fixed", str(fixed)
        )

        async def triaged() -> bool:
            async with triage.db.read() as session:
                return await session.get(TriageCall, uuid.UUID(raw["data"]["call_id"])) is not None

        await eventually(triaged, message="the replay did not pass triage's sender check")
        assert await queue_depth(amqp_url, DLQ) == 0
    finally:
        for user in logins:
            ctl("delete_user", user, check=False)
