"""The `mhp` CLI: its commands exist, refuse bad input clearly, and `simulate` publishes for real."""

from __future__ import annotations

import asyncio
import json
import random
import stat
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage
from typer.testing import CliRunner

from mhp.broker import VhostAdmin
from mhp.cli import app
from mhp.demo import DEMO_PCN, DEMO_PRACTICES, demo_rota, practice_outcome, synthetic_nhs_number
from mhp.platform import SERVICES, Platform
from mhp.provisioning import BrokerLogins, broker_ctl, deprovision, provision
from mhp.simulation import PublishAs, SimulationError, plan_simulation
from mhp.up import redact
from shared.contracts.codes import AppointmentType, BookedBy, Modality
from shared.contracts.envelope import PatientIdentity
from shared.contracts.routing import EXCHANGE, binding_key
from shared.contracts.v1 import AppointmentBooked, AppointmentBookedData, CallReceived
from shared.messaging.senders import pcn_user
from tests.support.amqp import EventCapture, eventually

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
    assert redact("amqp://ops:s3cret@rabbit:5672/mhp") == "amqp://ops:***@rabbit:5672/mhp"


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


def test_a_pcn_users_url_publishes_for_its_practices_as_the_pcn_and_a_practice_users_for_itself() -> None:
    pcn_url = "amqp://pcn-u00123:pw@rabbit:5672/mhp-pcn-u00123"
    plan = plan_simulation(amqp_url=pcn_url, publish_as=None, pcn=None, practices=None, provisioned=None)
    assert (plan.pcn_code, plan.producer_org, plan.system) == ("U00123", "U00123", "telephony")
    assert set(plan.logins) == set(DEMO_PRACTICES)
    assert plan.senders == ["pcn-u00123"]
    assert not plan.impersonating
    practice_url = "amqp://practice-y01235:pw@rabbit:5672/mhp-practice-y01235"
    plan = plan_simulation(amqp_url=practice_url, publish_as=None, pcn=None, practices=None, provisioned=None)
    assert list(plan.logins) == ["Y01235"]
    assert plan.producer_org is None
    assert plan.senders == ["practice-y01235"]
    assert not plan.impersonating


@pytest.mark.parametrize(
    ("url", "publish_as", "pcn", "practices"),
    [
        ("amqp://pcn-u00123:pw@rabbit/x", PublishAs.PRACTICE, None, None),
        ("amqp://pcn-u00123:pw@rabbit/x", None, "U00999", None),
        ("amqp://practice-y01234:pw@rabbit/x", PublishAs.PCN, None, None),
        ("amqp://practice-y01234:pw@rabbit/x", None, None, ["Y01235"]),
        ("amqp://mhp-triage:pw@rabbit/x", None, None, None),
    ],
)
def test_simulate_refuses_options_its_login_could_not_send(
    url: str, publish_as: PublishAs | None, pcn: str | None, practices: list[str] | None
) -> None:
    with pytest.raises(SimulationError):
        plan_simulation(amqp_url=url, publish_as=publish_as, pcn=pcn, practices=practices, provisioned=None)


def test_a_login_outside_the_scheme_impersonates_and_says_so() -> None:
    plan = plan_simulation(
        amqp_url="amqp://guest:guest@rabbit/",
        publish_as=PublishAs.PCN,
        pcn=None,
        practices=None,
        provisioned=None,
    )
    assert plan.impersonating
    assert plan.senders == ["pcn-u00123"]
    plan = plan_simulation(amqp_url=None, publish_as=None, pcn=None, practices=["Y01234"], provisioned=None)
    assert plan.impersonating
    assert plan.senders == ["practice-y01234"]


def test_provisioned_logins_are_kept_owner_only_and_each_user_logs_into_its_own_vhost(tmp_path: Path) -> None:
    logins = BrokerLogins("amqp://127.0.0.1:5672", "mhp", {"mhp-triage": "a/b", "practice-y01234": "c"})
    path = tmp_path / "logins.json"
    path.write_text("{}")
    path.chmod(0o644)
    logins.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert BrokerLogins.load(path) == logins
    assert logins.url_for("mhp-triage") == "amqp://mhp-triage:a%2Fb@127.0.0.1:5672/mhp"
    assert logins.url_for("practice-y01234") == "amqp://practice-y01234:c@127.0.0.1:5672/mhp-practice-y01234"


def test_each_service_gets_its_own_broker_login_and_declares_nothing_when_provisioned(tmp_path: Path) -> None:
    triage = next(s for s in SERVICES if s.name == "triage")
    shared = Platform(amqp_url="amqp://guest:guest@h/", run_dir=tmp_path).service_env(triage, 8001)
    assert shared["RABBITMQ_URL"] == "amqp://guest:guest@h/"
    assert "TRIAGE_DECLARE_TOPOLOGY" not in shared
    own = Platform(
        amqp_url="amqp://guest:guest@h/",
        run_dir=tmp_path,
        service_urls={"triage": "amqp://mhp-triage:pw@h/mhp"},
    ).service_env(triage, 8001)
    assert own["TRIAGE_RABBITMQ_URL"] == "amqp://mhp-triage:pw@h/mhp"
    assert own["TRIAGE_DECLARE_TOPOLOGY"] == "false"
    assert own.get("RABBITMQ_URL") is None


async def _capture_calls(url: str, count: int, publish: Callable[[], Any]) -> list[AbstractIncomingMessage]:
    """Run `publish` (in a thread) and collect `count` call.received messages from the trust's vhost."""
    got: list[AbstractIncomingMessage] = []
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(EXCHANGE, ensure=False)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key=binding_key("call.received"))

        async def on_message(message: AbstractIncomingMessage) -> None:
            got.append(message)

        await queue.consume(on_message, no_ack=True)
        result = await asyncio.to_thread(publish)
        assert result.exit_code == 0, result.output
        await eventually(lambda: len(got) >= count, timeout=30, message=lambda: f"{len(got)}/{count}")
    return got


@pytest.mark.integration
async def test_simulate_publishes_as_the_provisioned_pcn_and_practice_users_declaring_nothing(
    broker: tuple[str, VhostAdmin | None], amqp_url: str, tmp_path: Path
) -> None:
    ctl = broker_ctl(broker[1])
    if ctl is None:
        pytest.skip("the broker fixture gave no rabbitmqctl-capable node (URL or container)")
    vhost = unquote(urlsplit(amqp_url).path.lstrip("/"))
    logins = provision(
        ctl, amqp_url, vhost=vhost, run_dir=tmp_path, pcn_code=DEMO_PCN, practices=DEMO_PRACTICES
    )
    try:
        pcn_url = logins.url_for(pcn_user(DEMO_PCN))
        as_pcn = ["simulate", "--calls", "6", "--rate", "0", "--amqp-url", pcn_url]
        got = await _capture_calls(amqp_url, 6, lambda: runner.invoke(app, as_pcn))
        assert {m.user_id for m in got} == {"pcn-u00123"}  # federated with the validated user_id
        assert {CallReceived.model_validate_json(m.body).producer for m in got} == {"U00123/telephony"}

        # From the logins `mhp up` keeps in its run directory: each practice as itself, one connection each.
        from_run_dir = [
            "simulate",
            "--calls",
            "12",
            "--rate",
            "0",
            "--as",
            "practice",
            "--run-dir",
            str(tmp_path),
        ]
        got = await _capture_calls(
            amqp_url, 12, lambda: runner.invoke(app, from_run_dir, env={"RABBITMQ_URL": ""})
        )
        for message in got:
            event = CallReceived.model_validate_json(message.body)
            assert message.user_id == f"practice-{str(event.practice_ods).lower()}"
            assert event.producer == f"{event.practice_ods}/reception"
    finally:
        deprovision(ctl, logins)
