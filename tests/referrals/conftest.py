"""Fixtures for referrals tests: a controllable clock, hosts on a real broker and database, event builders.

HTTP clients carry a bearer token from the embedded provider: by default the MHP `mhp.ahmed` of PCN
U00123, whose practices (Y01234...) the events below come from.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from services.referrals.bootstrap import ReferralsHost, build_host
from services.referrals.settings import ReferralsSettings
from shared.contracts.codes import (
    AttendanceStatus,
    Destination,
    Disposition,
    NextStep,
    OutOfScopeReason,
    TriageCode,
)
from shared.contracts.v1 import (
    AppointmentAttended,
    AppointmentAttendedData,
    AppointmentDna,
    AppointmentDnaData,
    CallTriaged,
    CallTriagedData,
)
from tests.support.amqp import EventCapture, eventually
from tests.support.clock import MONDAY_10AM, FakeClock
from tests.support.identity import MHP, Tokens

PCN = "U00123"
PRACTICE = "Y01234"
LEAD = "lead.y01234"
"""Practice Y01234's clinical lead in the referral directory, and the demo user of that name."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


HostFactory = Callable[..., ReferralsHost]


@pytest.fixture
async def make_host(
    amqp_url: str, make_database_url: Callable[[str], str], clock: FakeClock
) -> AsyncIterator[HostFactory]:
    """Build referrals hosts on this test's broker and one database (so a new host is a restart)."""
    database_url = make_database_url("referrals")
    built: list[ReferralsHost] = []

    def make(**overrides: Any) -> ReferralsHost:
        settings = ReferralsSettings(
            rabbitmq_url=amqp_url,
            database_url=database_url,
            relay_poll_seconds=0.1,
            watchdog_interval_seconds=0.05,
            **overrides,
        )
        host = build_host(settings, clock=clock)
        built.append(host)
        return host

    yield make
    for host in built:
        if host.started:
            await host.stop()


@pytest.fixture
async def referrals(make_host: HostFactory) -> ReferralsHost:
    host = make_host()
    await host.start()
    return host


@asynccontextmanager
async def api(host: ReferralsHost, headers: dict[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the host's HTTP app, sending `headers` (a token) with every request unless overridden."""
    # ASGITransport does not run the lifespan: whoever built the host owns start and stop.
    transport = httpx.ASGITransport(app=host.http_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://referrals", headers=headers) as http:
        yield http


@pytest.fixture
async def client(referrals: ReferralsHost, tokens: Tokens) -> AsyncIterator[httpx.AsyncClient]:
    """The MHP of the events' PCN."""
    async with api(referrals, tokens.user(MHP)) as http:
        yield http


def envelope(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "pcn_code": PCN,
        "practice_ods": PRACTICE,
        "correlation_id": uuid.uuid4(),
        "occurred_at": MONDAY_10AM,
    }
    fields.update(overrides)
    return fields


def call_triaged(
    disposition: Disposition,
    *,
    code: TriageCode = TriageCode.F,
    destination: Destination | None = None,
    out_of_scope_reason: OutOfScopeReason | None = None,
    **env: Any,
) -> CallTriaged:
    return CallTriaged.create(
        CallTriagedData(
            call_id=uuid.uuid4(),
            triage_code=code,
            disposition=disposition,
            respond_by=None,
            out_of_scope_reason=out_of_scope_reason,
            destination=destination,
            clinician="mhp.1",
        ),
        producer="RMH/triage",
        **envelope(**env),
    )


def attended(next_step: NextStep, destination: Destination | None = None, **env: Any) -> AppointmentAttended:
    return AppointmentAttended.create(
        AppointmentAttendedData(
            appointment_id=uuid.uuid4(),
            attendance=AttendanceStatus.ATTENDED,
            next_step=next_step,
            referral_destination=destination,
        ),
        producer=f"{PRACTICE}/clinical-system",
        **envelope(**env),
    )


def dna(**env: Any) -> AppointmentDna:
    return AppointmentDna.create(
        AppointmentDnaData(appointment_id=uuid.uuid4(), attendance=AttendanceStatus.DID_NOT_ATTEND),
        producer=f"{PRACTICE}/clinical-system",
        **envelope(**env),
    )


def events_of(capture: EventCapture, event_type: str, **data: Any) -> list[dict[str, Any]]:
    """Captured events of a type whose data has all the given (stringified) values."""
    return [
        e
        for e in capture.of_type(event_type)
        if all(e["data"].get(k) == (str(v) if v is not None else None) for k, v in data.items())
    ]


async def wait_events(
    capture: EventCapture, event_type: str, count: int, **data: Any
) -> list[dict[str, Any]]:
    await eventually(
        lambda: len(events_of(capture, event_type, **data)) >= count,
        message=lambda: (
            f"expected {count} {event_type} {data}, got {len(events_of(capture, event_type, **data))}"
        ),
    )
    return events_of(capture, event_type, **data)


async def watchdog_passes(host: ReferralsHost, times: int = 3) -> None:
    """Wait for whole watchdog passes (not wall time): what it would do, it has then done."""
    target = host.watchdog.passes + times
    await eventually(lambda: host.watchdog.passes >= target, message="watchdog did not scan")
