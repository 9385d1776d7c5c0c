"""No patient identifier reaches a log line, whatever path a call takes through a service."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import redirect_stderr
from datetime import date

import httpx
import pytest
import structlog

from services.triage.bootstrap import build_host
from services.triage.settings import TriageSettings
from shared.logging import configure_logging
from tests.support.amqp import eventually, get_all, publish_event, publish_raw, queue_depth
from tests.support.factories import call_received
from tests.support.identity import MHP, Tokens

pytestmark = pytest.mark.integration


async def test_no_nhs_number_date_of_birth_or_reason_is_logged(
    amqp_url: str, make_database_url: Callable[[str], str], tokens: Tokens
) -> None:
    stream = io.StringIO()
    with redirect_stderr(stream):
        structlog.reset_defaults()
        configure_logging("triage", level="DEBUG", json=True)
        settings = TriageSettings(rabbitmq_url=amqp_url, database_url=make_database_url("triage"))
        host = build_host(settings)
        app = host.http_app()
        good = [
            call_received(reason="thoughts of suicide, has a plan", date_of_birth=date(1990, 3, 14))
            for _ in range(3)
        ]
        bad = call_received(date_of_birth=date(1979, 11, 2))
        raw = json.loads(bad.model_dump_json())
        bad_number = raw["data"]["patient"]["nhs_number"][:-1] + str(
            (int(raw["data"]["patient"]["nhs_number"][-1]) + 1) % 10
        )
        raw["data"]["patient"]["nhs_number"] = bad_number
        async with app.router.lifespan_context(app):
            for event in good:
                await publish_event(amqp_url, event)
            await publish_raw(
                amqp_url, json.dumps(raw).encode(), routing_key=bad.routing_key, message_id=str(bad.event_id)
            )
            await get_all(amqp_url, "triage.on_call_received.dlq", expect=1)
            await eventually(lambda: _drained(amqp_url))
            transport = httpx.ASGITransport(app=app)
            headers = tokens.user(MHP)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://triage", headers=headers
            ) as client:
                for event in good:
                    response = await client.post(
                        f"/calls/{event.data.call_id}/decision",
                        json={"triage_code": "B"},
                    )
                    assert response.status_code == 201
    logged = stream.getvalue()
    assert "message_dead_lettered" in logged  # the paths above did log
    secrets = [e.data.patient.nhs_number for e in good] + [bad_number, "thoughts of suicide"]
    secrets += ["1990-03-14", "1979-11-02"]
    leaked = [s for s in secrets if s in logged]
    assert leaked == []


async def _drained(url: str) -> bool:
    return await queue_depth(url, "triage.on_call_received") == 0
