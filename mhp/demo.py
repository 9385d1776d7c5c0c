"""A synthetic PCN feeding the platform: its practices publish calls, its MHP answers the triage worklist.

Practice systems publish with plain aio-pika (persistent, confirmed, message_id = event_id), as a real
practice system would; the MHP works through the triage HTTP API. Patients are synthetic: NHS numbers in
the 999 range that pass the Modulus 11 check, and invented reasons.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import aio_pika
import httpx
from aio_pika.abc import AbstractRobustChannel, ExchangeType

from mhp.acting import SignedInAs
from mhp.idp.client import IdentityProviderError
from shared.contracts.codes import (
    AttendanceStatus,
    BookedBy,
    CallerUrgency,
    CancelledBy,
    Channel,
    Destination,
    NextStep,
    TriageCode,
)
from shared.contracts.envelope import Envelope, PatientIdentity
from shared.contracts.routing import EXCHANGE, binding_key
from shared.contracts.v1 import (
    AppointmentAttended,
    AppointmentAttendedData,
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCancelledData,
    AppointmentDna,
    AppointmentDnaData,
    CallReceived,
    CallReceivedData,
)
from shared.db import utcnow
from shared.logging import get_logger

log = get_logger(__name__)

DEMO_PCN = "U00123"
DEMO_MHP = "mhp.ahmed"
DEMO_PCN_MANAGER = "manager.u00123"
DEMO_PRACTICES = ("Y01234", "Y01235", "Y01236", "Y01237", "Y01238", "Y01239")

REASONS = (
    "low mood and poor sleep for a month",
    "anxiety attacks at work, asking for help",
    "struggling after a bereavement",
    "feels unable to cope, stopped eating properly",
    "thoughts of self-harm last night",
    "took an overdose last year, low again",
    "hearing voices, family worried",
    "panic symptoms, cannot leave the house",
    "review of medication, side effects",
    "relationship breakdown, tearful and not sleeping",
)
CHANNEL_WEIGHTS = {
    Channel.TELEPHONE: 55,
    Channel.E_CONSULTATION: 25,
    Channel.GP_TASK: 12,
    Channel.WALK_IN: 4,
    Channel.DIRECT_BOOKING: 4,
}
# What a plausible MHP caseload of urgent requests looks like; A and B are rare.
TRIAGE_CODE_WEIGHTS = {
    TriageCode.A: 1,
    TriageCode.B: 3,
    TriageCode.C: 14,
    TriageCode.D: 30,
    TriageCode.E: 30,
    TriageCode.F: 14,
    TriageCode.G: 8,
}


def synthetic_nhs_number(rng: random.Random) -> str:
    """A 10-digit number in the 999 (never issued) range with a valid Modulus 11 check digit."""
    while True:
        digits = [9, 9, 9] + [rng.randrange(10) for _ in range(6)]
        total = sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True))
        check = (11 - total % 11) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def synthetic_call(
    rng: random.Random, *, pcn_code: str = DEMO_PCN, practices: Sequence[str] = DEMO_PRACTICES
) -> CallReceived:
    practice = rng.choice(list(practices))
    today = utcnow().date()
    # Mostly working-age adults, with some under 18 and over 65 to exercise the scope rules.
    age = rng.choice([16, 17, *range(18, 66), *range(18, 66), 66, 70, 78])
    born = today - timedelta(days=age * 365 + rng.randrange(1, 360))
    channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
    return CallReceived.create(
        CallReceivedData(
            call_id=uuid.uuid4(),
            channel=channel,
            patient=PatientIdentity(
                nhs_number=synthetic_nhs_number(rng), date_of_birth=date(born.year, born.month, born.day)
            ),
            reason=rng.choice(REASONS),
            caller_urgency=rng.choice(list(CallerUrgency)),
        ),
        producer=f"{practice}/reception",
        pcn_code=pcn_code,
        practice_ods=practice,
        correlation_id=uuid.uuid4(),
    )


class PracticePublisher:
    """A practice system's AMQP client: persistent, confirmed, mandatory, message_id = event_id."""

    def __init__(self, amqp_url: str) -> None:
        self._url = amqp_url
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None

    async def __aenter__(self) -> PracticePublisher:
        self._connection = await aio_pika.connect_robust(self._url)
        self._channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
        await self._channel.declare_exchange(EXCHANGE, ExchangeType.TOPIC, durable=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def publish(self, event: Envelope[Any]) -> None:
        assert self._channel is not None
        exchange = await self._channel.get_exchange(EXCHANGE, ensure=False)
        await exchange.publish(
            aio_pika.Message(
                event.model_dump_json().encode(),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=str(event.event_id),
                correlation_id=str(event.correlation_id),
                type=event.event_type,
            ),
            routing_key=event.routing_key,
            mandatory=True,
        )


async def publish_calls(
    amqp_url: str,
    *,
    count: int,
    rate: float,
    pcn_code: str = DEMO_PCN,
    practices: Sequence[str] = DEMO_PRACTICES,
    seed: int | None = None,
) -> int:
    """Publish `count` synthetic calls at about `rate` per second (0 = as fast as confirms allow)."""
    rng = random.Random(seed)
    async with PracticePublisher(amqp_url) as publisher:
        for _ in range(count):
            await publisher.publish(synthetic_call(rng, pcn_code=pcn_code, practices=practices))
            if rate > 0:
                await asyncio.sleep(1 / rate)
    return count


def demo_rota(
    start: date, *, weeks: int = 4, pcn_code: str = DEMO_PCN, practices: Sequence[str] = DEMO_PRACTICES
) -> list[dict[str, object]]:
    """The demo PCN's rota: two MHPs, three practices each; a practice gets a morning and an afternoon a week.

    Practice i has its morning on weekday i mod 5 and its afternoon on weekday (i + 2) mod 5, so neither
    MHP is ever booked at two practices in one half-day.
    """
    monday = start - timedelta(days=start.weekday())
    sessions: list[dict[str, object]] = []
    for week in range(weeks + 1):
        for index, practice in enumerate(practices):
            for period, weekday, modalities, room in (
                ("am", index % 5, ["telephone", "face_to_face"], "Room 2"),
                ("pm", (index + 2) % 5, ["telephone", "video"], None),
            ):
                day = monday + timedelta(weeks=week, days=weekday)
                if not start <= day < start + timedelta(weeks=weeks):
                    continue
                sessions.append(
                    {
                        "pcn_code": pcn_code,
                        "practice_ods": practice,
                        "session_date": day.isoformat(),
                        "period": period,
                        "clinician": f"mhp.demo{index // 3 + 1}",
                        "modalities": modalities,
                        "room": room,
                    }
                )
    return sessions


async def load_demo_rota(booking_url: str, issuer: str, *, weeks: int = 4) -> int:
    """Post the demo rota to the booking service, signed in as the PCN manager; safe to repeat."""
    async with httpx.AsyncClient(timeout=60, auth=SignedInAs(issuer, DEMO_PCN_MANAGER)) as client:
        response = await client.post(
            f"{booking_url}/rota", json={"sessions": demo_rota(utcnow().date(), weeks=weeks)}
        )
        response.raise_for_status()
        created: int = response.json()["created"]
        return created


@dataclass
class DemoMhp:
    """The PCN's MHP: takes the most urgent call off the triage worklist and records a decision.

    Who decided is the signed-in user (the services take it from the token), never a body field.
    """

    triage_url: str
    pcn_code: str = DEMO_PCN
    rng: random.Random = field(default_factory=random.Random)

    def decision(self) -> dict[str, object]:
        code = self.rng.choices(list(TRIAGE_CODE_WEIGHTS), weights=list(TRIAGE_CODE_WEIGHTS.values()))[0]
        return {
            "triage_code": code.value,
            "modality": self.rng.choice(["telephone", "video", "face_to_face"]),
            "complex_needs": self.rng.random() < 0.15,
        }

    async def work_once(self, client: httpx.AsyncClient, *, limit: int = 5) -> int:
        response = await client.get(f"{self.triage_url}/worklist", params={"pcn": self.pcn_code})
        response.raise_for_status()
        decided = 0
        for entry in response.json()[:limit]:
            posted = await client.post(
                f"{self.triage_url}/calls/{entry['call_id']}/decision", json=self.decision()
            )
            if posted.status_code >= 400:
                log.warning("demo_decision_refused", status=posted.status_code)
                continue
            decided += 1
        return decided


async def run_demo(
    amqp_url: str,
    triage_url: str,
    *,
    issuer: str,
    booking_url: str | None = None,
    calls_per_minute: float = 12.0,
    seed: int | None = None,
) -> None:
    """Feed the platform until cancelled: a rota, calls from the practices, decisions from the MHP.

    The PCN manager and the MHP sign in through `issuer` (the embedded provider) like any user.
    """
    rng = random.Random(seed)
    if booking_url is not None:
        await load_demo_rota(booking_url, issuer)
    mhp = DemoMhp(triage_url, rng=random.Random(rng.random()))

    async def practices() -> None:
        async with PracticePublisher(amqp_url) as publisher:
            while True:
                await publisher.publish(synthetic_call(rng))
                await asyncio.sleep(rng.expovariate(calls_per_minute / 60))

    async def clinician() -> None:
        async with httpx.AsyncClient(timeout=10, auth=SignedInAs(issuer, DEMO_MHP)) as client:
            while True:
                try:
                    await mhp.work_once(client)
                except (httpx.HTTPError, IdentityProviderError) as exc:
                    log.warning("demo_triage_unreachable", error=type(exc).__name__)
                await asyncio.sleep(3)

    await asyncio.gather(practices(), clinician(), report_outcomes(amqp_url, rng))


def practice_outcome(booked: AppointmentBooked, rng: random.Random) -> Envelope[Any]:
    """What the practice's clinical system reports for an MHP appointment: mostly attended, some DNAs."""
    data = booked.data
    producer = f"{booked.practice_ods}/clinical-system"
    roll = rng.random()
    if roll < 0.12:
        return booked.caused(
            AppointmentDna,
            AppointmentDnaData(
                appointment_id=data.appointment_id,
                attendance=AttendanceStatus.DID_NOT_ATTEND,
                appointment_starts_at=data.starts_at,
            ),
            producer=producer,
        )
    if roll < 0.20:
        return booked.caused(
            AppointmentCancelled,
            AppointmentCancelledData(appointment_id=data.appointment_id, cancelled_by=CancelledBy.PATIENT),
            producer=producer,
        )
    next_step = rng.choices(list(NextStep), weights=[35, 10, 20, 35])[0]
    return booked.caused(
        AppointmentAttended,
        AppointmentAttendedData(
            appointment_id=data.appointment_id,
            attendance=AttendanceStatus.ATTENDED,
            next_step=next_step,
            referral_destination=rng.choice(ONWARD) if next_step is NextStep.REFERRAL else None,
            appointment_starts_at=data.starts_at,
        ),
        producer=producer,
    )


ONWARD = (
    Destination.TALKING_THERAPIES,
    Destination.COMMUNITY_MENTAL_HEALTH_TEAM,
    Destination.SOCIAL_PRESCRIBING,
)


async def report_outcomes(amqp_url: str, rng: random.Random, *, pcn_code: str = DEMO_PCN) -> None:
    """The practices' clinical systems report attendance for MHP appointments, once each is over.

    An outcome cannot be recorded before its appointment starts (the contract and booking refuse it), so
    the demo reports each one a moment after the appointment ends: attendance fills in as the day goes.
    """
    pending: set[asyncio.Task[None]] = set()

    async def when_over(publisher: PracticePublisher, booked: AppointmentBooked) -> None:
        ends = booked.data.starts_at + timedelta(minutes=booked.data.minutes)
        await asyncio.sleep(max(0.0, (ends - utcnow()).total_seconds()) + rng.uniform(1, 5))
        await publisher.publish(practice_outcome(booked, rng))  # built now: recorded after the start

    connection = await aio_pika.connect_robust(amqp_url)
    async with connection, PracticePublisher(amqp_url) as publisher:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(EXCHANGE, ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue("demo.practice_outcomes", exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key=binding_key("appointment.booked", pcn_code=pcn_code))
        async with queue.iterator() as messages:
            async for message in messages:
                async with message.process():
                    booked = AppointmentBooked.model_validate_json(message.body)
                if booked.data.booked_by is not BookedBy.MHP_SERVICE:
                    continue
                task = asyncio.create_task(when_over(publisher, booked))
                pending.add(task)
                task.add_done_callback(pending.discard)
