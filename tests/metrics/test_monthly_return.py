"""A generated month of journeys pushed through the real broker: every figure of the monthly return is
checked against ground truth computed from the journeys; the store holds no patient identifiers; a rebuild
from the archive reproduces the same return."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, inspect, text

from services.metrics.adapters.tables import PROJECTIONS
from services.metrics.cli import archive_size
from shared.contracts.v1 import ALL_V1
from shared.service import ServiceHost
from tests.metrics import journeys as gen
from tests.support.amqp import eventually, publish_event
from tests.support.factories import call_received
from tests.support.identity import PCN_MANAGER, TRUST_MANAGER, Tokens

pytestmark = pytest.mark.integration


async def _publish_all(url: str, events: list[Any], concurrency: int = 16) -> None:
    for start in range(0, len(events), concurrency):
        await asyncio.gather(*(publish_event(url, e) for e in events[start : start + concurrency]))


def _client(host: ServiceHost, headers: dict[str, str]) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=host.http_app())
    return httpx.AsyncClient(transport=transport, base_url="http://metrics", headers=headers)


async def _all_stored_values(host: ServiceHost) -> list[str]:
    async with host.db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        values: list[str] = []
        for table in tables:
            for row in (await conn.execute(text(f'SELECT * FROM "{table}"'))).all():
                values.extend(str(v) for v in row)
    return values


async def test_monthly_return_matches_ground_truth_from_generated_journeys(
    metrics: ServiceHost,
    amqp_url: str,
    make_database_url: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
    tokens: Tokens,
) -> None:
    journeys, sessions = gen.generate()
    events = gen.events(journeys, sessions)
    assert {e.event_type for e in events} == {cls.EVENT_TYPE for cls in ALL_V1}, (
        "every v1 event type is exercised"
    )

    await _publish_all(amqp_url, events)
    # A redelivered event (same event_id) must not be counted twice.
    await _publish_all(amqp_url, events[:50])
    await eventually(
        lambda: _archived(metrics, len(events)), timeout=120, message="not every event was consumed"
    )

    async with _client(metrics, tokens.user(TRUST_MANAGER)) as client:
        for pcn in gen.PCNS:
            response = await client.get("/reports/monthly", params={"pcn": pcn, "month": gen.MONTH})
            assert response.status_code == 200, response.text
            report = response.json()
            expected = gen.expected_return(journeys, sessions, pcn)
            assert report["pcn"] == pcn
            assert report["month"] == gen.MONTH
            assert report["pcn_total"] == expected["pcn_total"]
            assert report["practices"] == expected["practices"]

        as_csv = await client.get(
            "/reports/monthly", params={"pcn": "U00123", "month": gen.MONTH, "format": "csv"}
        )
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    expected = gen.expected_return(journeys, sessions, "U00123")
    by_key = {(r["scope"], r["section"], r["item"]): r["value"] for r in rows}
    total = expected["pcn_total"]
    assert by_key[("U00123", "initial_assessments", "telephone")] == str(
        total["initial_assessments"]["telephone"]
    )
    assert by_key[("U00123", "attendance", "dna_rate")] == str(total["attendance"]["dna_rate"])
    assert by_key[("U00123", "response_times", "C.breached")] == str(total["response_times"]["C"]["breached"])
    for ods, figures in expected["practices"].items():
        assert by_key[(ods, "gp_appointments_released", "value")] == str(figures["gp_appointments_released"])

    # The CLI reads the same database directly (a process of its own, as an operator would run it).
    out, _ = await _run_cli(["report", "--pcn", "U00123", "--month", gen.MONTH], metrics)
    cli_report = json.loads(out)
    assert cli_report["pcn_total"]["attendance"] == total["attendance"]
    assert cli_report["practices"].keys() == expected["practices"].keys()

    # No patient identifier or free text anywhere in the metrics store.
    stored = "\n".join(await _all_stored_values(metrics))
    for j in journeys:
        if j.call_id is None:
            continue
        assert j.nhs_number not in stored
        assert j.date_of_birth.isoformat() not in stored
        assert j.date_of_birth.strftime("%d/%m/%Y") not in stored
        assert j.reason not in stored
    assert "waiting list closed" not in stored
    assert "MHP off sick" not in stored
    # Nor staff ids (who acknowledged, resolved or was assigned an escalation) or a resolution's note.
    for staff_or_note in ("lead-0042", "duty-manager-01", "called back and safety-netted"):
        assert staff_or_note not in stored

    # Projections lost, then rebuilt from the archive by the operator command, give the same return.
    async with metrics.db.transaction() as session:
        for model in PROJECTIONS.values():
            await session.exec(delete(model))
    out, err = await _run_cli(["metrics", "rebuild"], metrics)
    assert f"rebuilt projections from {len(events)} archived events" in err
    async with _client(metrics, tokens.user(PCN_MANAGER)) as client:
        again = await client.get("/reports/monthly", params={"pcn": "U00123", "month": gen.MONTH})
    assert again.json()["pcn_total"] == expected["pcn_total"]
    assert again.json()["practices"] == expected["practices"]


async def _run_cli(args: list[str], host: ServiceHost) -> tuple[str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mhp.cli",
        *args,
        env={**os.environ, "METRICS_DATABASE_URL": host.settings.database_url, "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode(), err.decode()


async def _archived(host: ServiceHost, count: int) -> bool:
    return await archive_size(host.db) >= count


async def test_monthly_report_for_a_pcn_outside_the_directory_is_a_plain_404(
    metrics: ServiceHost, amqp_url: str, tokens: Tokens
) -> None:
    # Events of a PCN the trust's directory does not list are archived, but no one's scope covers it.
    await publish_event(amqp_url, call_received(pcn_code="U99999", practice_ods="Y09999"))
    await eventually(lambda: _archived(metrics, 1), message="the call was not consumed")
    async with _client(metrics, tokens.user(TRUST_MANAGER)) as client:
        outside = await client.get("/reports/monthly", params={"pcn": "U99999", "month": "2026-10"})
        quiet = await client.get("/reports/monthly", params={"pcn": "U00456", "month": "2026-10"})
        bad_month = await client.get("/reports/monthly", params={"pcn": "U00123", "month": "2026-13"})
    assert (outside.status_code, outside.json()) == (404, {"detail": "not found"})
    # A PCN of the directory of which nothing has been heard yet says so (the caller may see it anyway).
    assert quiet.status_code == 404
    assert "U00456" in quiet.json()["detail"]
    assert bad_month.status_code == 422
    assert bad_month.json()["detail"][0]["loc"] == ["query", "month"]
