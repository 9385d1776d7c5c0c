"""Booking's HTTP surfaces: rota loading (HTTP and CLI) and the FHIR Slot/Appointment API for practices."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from sqlmodel import func, select
from typer.testing import CliRunner

from services.booking.adapters.tables import RotaSession
from services.booking.bootstrap import build_database
from services.booking.cli import app as cli_app
from services.booking.settings import BookingSettings
from shared.service import ServiceHost
from tests.support.amqp import EventCapture
from tests.support.identity import PCN_MANAGER, Tokens

from .conftest import HOME, PCN, TODAY, api, entry, load

pytestmark = pytest.mark.integration


def _row(**overrides: Any) -> dict[str, Any]:
    row = {
        "pcn_code": PCN,
        "practice_ods": HOME,
        "session_date": TODAY.isoformat(),
        "period": "am",
        "clinician": "mhp-1",
        "modalities": ["telephone", "face_to_face"],
        "room": "Room 1",
    }
    row.update(overrides)
    return row


async def test_rota_loads_over_http_publishes_session_scheduled_and_names_bad_fields(
    booking: ServiceHost, amqp_url: str, tokens: Tokens
) -> None:
    async with (
        api(booking, tokens.user(PCN_MANAGER)) as client,
        EventCapture(amqp_url, "session.scheduled.#") as capture,
    ):
        bad = await client.post("/rota", json={"sessions": [_row(room=None)]})
        assert bad.status_code == 422
        assert "room" in str(bad.json()["detail"])
        created = await client.post("/rota", json={"sessions": [_row(), _row(period="pm")]})
        assert created.status_code == 201
        assert created.json()["created"] == 2
        again = await client.post("/rota", json={"sessions": [_row()]})
        assert again.json() == {"created": 0, "already_on_rota": 1, "session_ids": []}
        await capture.wait_for(2)
        sessions = (await client.get("/sessions", params={"pcn": PCN})).json()
        slots = (await client.get("/slots", params={"pcn": PCN, "practice": HOME})).json()
    scheduled = capture.of_type("session.scheduled")
    assert {s["data"]["period"] for s in scheduled} == {"am", "pm"}
    assert scheduled[0]["producer"] == f"{PCN}/booking"
    assert [s["status"] for s in sessions] == ["scheduled", "scheduled"]
    assert len(slots) == 12  # 6 clinical slots a session; admin slots are not bookable


def test_cli_loads_a_rota_from_a_csv_file(tmp_path: Path) -> None:
    rota = tmp_path / "rota.csv"
    # The CLI writes with the real clock, and a rota holds sessions from today on: load tomorrow's.
    day = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    rota.write_text(
        "pcn_code,practice_ods,session_date,period,clinician,modalities,room\n"
        f"U00123,Y01234,{day},am,mhp-1,telephone;video,\n"
        f"U00123,Y01234,{day},pm,mhp-1,face_to_face,Room 2\n",
        encoding="utf-8",
    )
    url = f"sqlite+aiosqlite:///{tmp_path}/booking.db"
    runner = CliRunner()
    result = runner.invoke(cli_app, ["load-rota", str(rota), "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "2 sessions scheduled, 0 already on the rota" in result.output
    assert asyncio.run(_count_sessions(url)) == 2
    bad = tmp_path / "bad.json"
    bad.write_text('[{"pcn_code": "U00123"}]', encoding="utf-8")
    result = runner.invoke(cli_app, ["load-rota", str(bad), "--database-url", url])
    assert result.exit_code == 2
    assert "practice_ods" in result.output


async def _count_sessions(url: str) -> int:
    db = build_database(BookingSettings(database_url=url))
    try:
        async with db.read() as session:
            return int((await session.exec(select(func.count()).select_from(RotaSession))).one())
    finally:
        await db.dispose()


async def test_fhir_free_slot_search_book_and_cancel_validate_as_fhir(
    booking: ServiceHost, tokens: Tokens
) -> None:
    await load(booking, entry(modalities=("telephone", "face_to_face"), room="Room 1"))  # type: ignore[arg-type]
    day_start = f"{TODAY.isoformat()}T00:00:00Z"
    day_end = f"{(TODAY + timedelta(days=1)).isoformat()}T00:00:00Z"
    params = {"practice": HOME, "start": [f"ge{day_start}", f"le{day_end}"], "status": "free"}
    async with api(booking, tokens.system(HOME)) as client:
        search = await client.get("/fhir/Slot", params={**params, "delivery-channel": "In-person"})
        assert search.status_code == 200
        assert search.headers["content-type"].startswith("application/fhir+json")
        bundle = Bundle.model_validate(search.json())
        assert bundle.type == "searchset"
        assert bundle.total == 3
        first = search.json()["entry"][0]["resource"]
        assert first["status"] == "free"
        assert first["extension"][0]["valueCode"] == "In-person"

        booked = await client.post(
            "/fhir/Appointment",
            json={
                "resourceType": "Appointment",
                "status": "booked",
                "slot": [{"reference": f"Slot/{first['id']}"}],
                "participant": [{"status": "accepted", "actor": {"display": "patient"}}],
            },
        )
        assert booked.status_code == 201, booked.text
        appointment = FhirAppointment.model_validate(booked.json())
        assert appointment.status == "booked"
        assert booked.json()["start"] == first["start"]
        after = Bundle.model_validate((await client.get("/fhir/Slot", params=params)).json())
        assert after.total == 5

        again = await client.post(
            "/fhir/Appointment",
            json={
                "resourceType": "Appointment",
                "status": "booked",
                "slot": [{"reference": f"Slot/{first['id']}"}],
                "participant": [{"status": "accepted", "actor": {"display": "patient"}}],
            },
        )
        assert again.status_code == 409
        assert OperationOutcome.model_validate(again.json()).issue[0].code == "conflict"

        cancelled = await client.put(
            f"/fhir/Appointment/{appointment.id}",
            json={
                "resourceType": "Appointment",
                "status": "cancelled",
                "participant": [{"status": "accepted", "actor": {"display": "patient"}}],
            },
        )
        assert cancelled.status_code == 200
        assert FhirAppointment.model_validate(cancelled.json()).status == "cancelled"
        restored = Bundle.model_validate((await client.get("/fhir/Slot", params=params)).json())
        assert restored.total == 6

        invalid = await client.get("/fhir/Slot", params={"practice": HOME, "start": "sometime"})
        assert invalid.status_code == 422
        assert "start" in invalid.json()["issue"][0]["diagnostics"]
