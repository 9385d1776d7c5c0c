"""Wiring of issue 20's bounds: HTTP answers 4xx (never 5xx) and AMQP dead-letters a broken rule at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from services.booking.adapters.tables import Appointment, RotaSession
from services.booking.cli import app as cli_app
from shared.contracts.codes import AttendanceStatus, NextStep
from shared.contracts.v1 import (
    AppointmentAttended,
    AppointmentAttendedData,
    AppointmentDna,
    AppointmentDnaData,
)
from shared.messaging.consumer import REASON_HEADER
from shared.service import ServiceHost
from tests.support.amqp import EventCapture, eventually, get_all, publish_event
from tests.support.identity import PCN_MANAGER, STAFF, Tokens

from .conftest import HOME, OTHER, PCN, TODAY, api, entry, load, triaged

pytestmark = pytest.mark.integration

PRACTICE_QUEUE = "booking.on_practice_appointment_event"


def _row(**overrides: Any) -> dict[str, Any]:
    row = {
        "pcn_code": PCN,
        "practice_ods": HOME,
        "session_date": TODAY.isoformat(),
        "period": "am",
        "clinician": "mhp-1",
        "modalities": ["telephone"],
    }
    return row | overrides


@pytest.mark.parametrize(
    "starts_at",
    ["9999-12-31T00:00:00Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", 1780300800],
)
async def test_a_direct_booking_far_outside_time_is_a_422_not_a_500(
    booking: ServiceHost, starts_at: object, tokens: Tokens
) -> None:
    body = {"pcn_code": PCN, "practice_ods": HOME, "starts_at": starts_at, "modality": "telephone"}
    async with api(booking, tokens.user(STAFF)) as client:
        response = await client.post("/appointments", json=body)
        slots = await client.get("/slots", params={"pcn": PCN, "from": "9999-01-01T00:00:00Z"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "starts_at"
    assert slots.status_code == 422


@pytest.mark.parametrize(
    ("day", "rule"),
    [
        ("9999-12-31", "more than a year ahead"),
        ((TODAY + timedelta(days=400)).isoformat(), "more than a year ahead"),
        ("0001-01-01", "is in the past"),
        ((TODAY - timedelta(days=1)).isoformat(), "is in the past"),
    ],
)
async def test_a_rota_outside_today_to_a_year_ahead_is_refused_whole_with_the_row_named(
    booking: ServiceHost, day: str, rule: str, tokens: Tokens
) -> None:
    async with api(booking, tokens.user(PCN_MANAGER)) as client:
        refused = await client.post("/rota", json={"sessions": [_row(), _row(session_date=day)]})
        sessions = (await client.get("/sessions", params={"pcn": PCN})).json()
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("sessions[1].session_date: ")
    assert rule in refused.json()["detail"]
    assert sessions == []  # the valid row was not loaded either


async def test_a_session_cancellation_needs_a_code_and_publishes_it(
    booking: ServiceHost, amqp_url: str, tokens: Tokens
) -> None:
    [session_id] = await load(booking, entry())
    url = f"/sessions/{session_id}/cancel"
    async with (
        api(booking, tokens.user(PCN_MANAGER)) as client,
        EventCapture(amqp_url, "session.cancelled.#") as capture,
    ):
        assert (await client.post(url, json={"reason": "MHP off sick"})).status_code == 422
        assert (await client.post(url, json={"reason_code": "sick"})).status_code == 422
        for text in ("called 943 476 5919", "born 12/03/1984", "off\u202esick"):
            answer = await client.post(url, json={"reason_code": "clinician_sickness", "reason": text})
            assert answer.status_code == 422
            assert text not in answer.text  # the validation error never echoes what was sent
        ok = await client.post(url, json={"reason_code": "clinician_sickness", "reason": "MHP off sick"})
        assert ok.status_code == 200, ok.text
        [received] = await capture.wait_for(1)
    cancelled = received.json()
    assert (cancelled["data"]["reason_code"], cancelled["data"]["reason"]) == (
        "clinician_sickness",
        "MHP off sick",
    )
    async with booking.db.read() as session:
        assert (await session.get(RotaSession, session_id)).status == "cancelled"  # type: ignore[union-attr]


async def test_a_fhir_slot_search_far_outside_time_is_an_operation_outcome(
    booking: ServiceHost, tokens: Tokens
) -> None:
    async with api(booking, tokens.system(HOME)) as client:
        response = await client.get(
            "/fhir/Slot", params={"practice": HOME, "start": "ge9999-12-31T00:00:00Z"}
        )
        wide = await client.get(
            "/fhir/Slot",
            params={"practice": HOME, "start": ["ge2026-06-01T00:00:00Z", "le2026-09-01T00:00:00Z"]},
        )
        slots = await client.get(
            "/slots", params={"pcn": PCN, "from": "2026-06-01T00:00:00Z", "to": "2026-09-01T00:00:00Z"}
        )
    assert response.status_code == 422
    assert (
        response.json()["issue"][0]["diagnostics"] == "start: must be between 2000-01-01 and two years ahead"
    )
    # A search may span two months at most: one answer names the rule rather than scanning a year.
    assert wide.status_code == 422
    assert wide.json()["issue"][0]["diagnostics"] == "from/to: a slot search spans at most 62 days"
    assert slots.status_code == 422
    assert slots.json()["detail"] == "from/to: a slot search spans at most 62 days"


async def test_an_outcome_before_the_appointment_starts_is_dead_lettered_at_once(
    booking: ServiceHost, amqp_url: str
) -> None:
    await load(booking, entry(), entry(OTHER))
    calls = [triaged(), triaged()]
    for event in calls:
        await publish_event(amqp_url, event)

    async def both_booked() -> bool:
        return len(await _booked(booking)) == 2

    await eventually(both_booked, message="calls not booked")
    first, second = await _booked(booking)
    early = first.starts_at - timedelta(hours=1)
    attended = AppointmentAttended.create(
        AppointmentAttendedData(
            appointment_id=first.appointment_id,
            attendance=AttendanceStatus.ATTENDED,
            next_step=NextStep.FOLLOW_UP,
        ),
        producer=f"{HOME}/clinical-system",
        pcn_code=PCN,
        practice_ods=HOME,
        correlation_id=first.correlation_id,
        occurred_at=early,
    )
    dna = AppointmentDna.create(
        AppointmentDnaData(appointment_id=second.appointment_id, attendance=AttendanceStatus.DID_NOT_ATTEND),
        producer=f"{HOME}/clinical-system",
        pcn_code=PCN,
        practice_ods=HOME,
        correlation_id=second.correlation_id,
        occurred_at=second.starts_at - timedelta(minutes=1),
    )
    await publish_event(amqp_url, attended)
    await publish_event(amqp_url, dna)
    dead = await get_all(amqp_url, f"{PRACTICE_QUEUE}.dlq", expect=2, timeout=30)
    assert sorted(str(d.message_id) for d in dead) == sorted([str(attended.event_id), str(dna.event_id)])
    reasons = {d.headers[REASON_HEADER] for d in dead}
    assert reasons == {"attendance: an outcome cannot be recorded before the appointment starts"}
    assert all(int(d.headers.get("x-delivery-count", 0)) == 0 for d in dead)  # not retried first
    assert [a.status for a in await _booked(booking)] == ["booked", "booked"]


async def _booked(host: ServiceHost) -> list[Appointment]:
    async with host.db.read() as session:
        query = select(Appointment).where(Appointment.status == "booked").order_by(col(Appointment.starts_at))
        return list((await session.exec(query)).all())


def test_the_cli_refuses_a_rota_outside_the_window_with_the_row_named(tmp_path: Path) -> None:
    rota = tmp_path / "rota.csv"
    rota.write_text(
        "pcn_code,practice_ods,session_date,period,clinician,modalities,room\n"
        "U00123,Y01234,9999-12-31,am,mhp-1,telephone,\n",
        encoding="utf-8",
    )
    url = f"sqlite+aiosqlite:///{tmp_path}/booking.db"
    result = CliRunner().invoke(cli_app, ["load-rota", str(rota), "--database-url", url])
    assert result.exit_code == 2
    assert "sessions[0].session_date: is more than a year ahead" in result.output
