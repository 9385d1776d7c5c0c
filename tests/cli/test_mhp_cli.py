"""The `mhp` CLI: its commands exist, refuse bad input clearly, and `simulate` publishes for real."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from typer.testing import CliRunner

from mhp.cli import _redact, app
from mhp.demo import DEMO_PRACTICES, demo_rota, practice_outcome, synthetic_nhs_number
from shared.contracts.codes import AppointmentType, BookedBy, Modality
from shared.contracts.envelope import PatientIdentity
from shared.contracts.routing import binding_key
from shared.contracts.v1 import AppointmentBooked, AppointmentBookedData, CallReceived
from tests.support.amqp import EventCapture

runner = CliRunner()


def test_help_lists_the_platform_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("up", "service", "simulate", "asyncapi"):
        assert command in result.output


def test_unknown_service_is_refused_with_the_choices() -> None:
    result = runner.invoke(app, ["service", "billing"])
    assert result.exit_code == 2
    assert "triage" in result.output


def test_broker_password_is_never_printed() -> None:
    assert _redact("amqp://ops:s3cret@rabbit:5672/mhp") == "amqp://ops:***@rabbit:5672/mhp"


def test_demo_rota_never_puts_one_mhp_in_two_places_and_stays_in_its_window() -> None:
    start = date(2026, 11, 25)  # a Wednesday: earlier days of that week are not on the rota
    rota = demo_rota(start, weeks=4)
    places = Counter((s["clinician"], s["session_date"], s["period"]) for s in rota)
    assert max(places.values()) == 1
    assert {s["practice_ods"] for s in rota} == set(DEMO_PRACTICES)
    assert all("2026-11-25" <= str(s["session_date"]) < "2026-12-23" for s in rota)


def test_synthetic_nhs_numbers_pass_the_modulus_11_check() -> None:
    rng = random.Random(7)
    for _ in range(200):
        PatientIdentity(nhs_number=synthetic_nhs_number(rng), date_of_birth=date(1980, 1, 1))


@pytest.mark.integration
async def test_simulate_publishes_valid_calls_the_way_a_practice_system_does(amqp_url: str) -> None:
    async with EventCapture(amqp_url, binding_key("call.received")) as capture:
        result = await asyncio.to_thread(
            runner.invoke, app, ["simulate", "--calls", "25", "--rate", "0", "--amqp-url", amqp_url]
        )
        assert result.exit_code == 0, result.output
        await capture.wait_for(25)
    for message in capture.messages:
        event = CallReceived.model_validate(json.loads(message.body))
        assert message.message_id == str(event.event_id)
        assert message.routing_key == event.routing_key


def test_demo_practice_outcomes_belong_to_the_appointments_episode_and_cover_dna_and_attendance() -> None:
    rng = random.Random(3)
    booked = AppointmentBooked.create(
        AppointmentBookedData(
            appointment_id=uuid.uuid4(),
            starts_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
            minutes=30,
            modality=Modality.TELEPHONE,
            appointment_type=AppointmentType.INITIAL_ASSESSMENT,
            booked_by=BookedBy.MHP_SERVICE,
        ),
        producer="U00123/booking",
        pcn_code="U00123",
        practice_ods="Y01234",
        correlation_id=uuid.uuid4(),
    )
    outcomes = [practice_outcome(booked, rng) for _ in range(200)]
    assert {o.event_type for o in outcomes} == {
        "appointment.attended",
        "appointment.dna",
        "appointment.cancelled",
    }
    for outcome in outcomes:
        assert outcome.correlation_id == booked.correlation_id
        assert outcome.causation_id == booked.event_id
        assert outcome.data.appointment_id == booked.data.appointment_id
        assert outcome.producer == "Y01234/clinical-system"
