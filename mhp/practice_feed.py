"""Practice systems' AMQP clients for the demo and `mhp simulate`: each practice publishes as itself.

A practice system logs in as its own broker user (`practice-y01234`) into its own ingress vhost, stamps
its login as the AMQP `user_id` (RabbitMQ refuses any other) and never declares anything; a PCN-wide
system (`pcn-u00123`) publishes for any practice of its PCN. Persistent, confirmed, mandatory,
message_id = event_id, as a real practice system would.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import aio_pika
import aiormq
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustChannel

from shared.contracts.codes import AttendanceStatus, BookedBy, CancelledBy, Destination, NextStep
from shared.contracts.envelope import Envelope
from shared.contracts.routing import EXCHANGE, binding_key
from shared.contracts.v1 import (
    AppointmentAttended,
    AppointmentAttendedData,
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCancelledData,
    AppointmentDna,
    AppointmentDnaData,
)
from shared.db import utcnow
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class PracticeLogin:
    """Where a practice's events go and the broker user that sends them (its AMQP `user_id`)."""

    url: str
    user_id: str


def login_user(amqp_url: str) -> str:
    return unquote(urlsplit(amqp_url).username or "guest")


class PracticePublisher:
    """One practice system's connection: persistent, confirmed, mandatory, message_id = event_id.

    `user_id` defaults to the URL's login (what RabbitMQ validates); another only works for a login
    tagged `impersonator` (a test or unprovisioned broker). Nothing is declared: the exchange is the
    broker's (provisioned definitions, or the services' own declarations).
    """

    def __init__(self, amqp_url: str, *, user_id: str | None = None, unroutable_retries: int = 20) -> None:
        self._url = amqp_url
        self.user_id = user_id or login_user(amqp_url)
        self._retries = unroutable_retries
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None

    async def __aenter__(self) -> PracticePublisher:
        self._connection = await aio_pika.connect_robust(self._url)
        self._channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def publish(self, event: Envelope[Any]) -> None:
        assert self._channel is not None
        exchange = await self._channel.get_exchange(EXCHANGE, ensure=False)
        message = aio_pika.Message(
            event.model_dump_json().encode(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=str(event.event_id),
            correlation_id=str(event.correlation_id),
            type=event.event_type,
            user_id=self.user_id,
        )
        for attempt in range(self._retries + 1):
            try:
                await exchange.publish(message, routing_key=event.routing_key, mandatory=True)
                return
            except aiormq.exceptions.PublishError:
                # Unroutable: no queue (or federation link) bound yet. A practice system keeps the call.
                if attempt == self._retries:
                    raise
                await asyncio.sleep(min(0.2 * 2**attempt, 5.0))


class PracticeFeed:
    """The practices' systems together: one connection per login, each event sent by its practice's."""

    def __init__(self, logins: Mapping[str, PracticeLogin]) -> None:
        self._logins = dict(logins)
        self._publishers: dict[PracticeLogin, PracticePublisher] = {}

    @property
    def practices(self) -> list[str]:
        return list(self._logins)

    async def __aenter__(self) -> PracticeFeed:
        for login in dict.fromkeys(self._logins.values()):
            publisher = PracticePublisher(login.url, user_id=login.user_id)
            await publisher.__aenter__()
            self._publishers[login] = publisher
        return self

    async def __aexit__(self, *exc: object) -> None:
        for publisher in self._publishers.values():
            await publisher.__aexit__(*exc)
        self._publishers.clear()

    async def publish(self, event: Envelope[Any]) -> None:
        login = self._logins.get(event.practice_ods or "")
        if login is None:
            raise ValueError("no practice system login for this event's practice")
        await self._publishers[login].publish(event)


def impersonated_logins(amqp_url: str, practices: list[str] | tuple[str, ...]) -> dict[str, PracticeLogin]:
    """An unprovisioned broker: one login for all, each event stamped with its practice's user_id."""
    from shared.messaging.senders import practice_user

    return {ods: PracticeLogin(amqp_url, practice_user(ods)) for ods in practices}


ONWARD = (
    Destination.TALKING_THERAPIES,
    Destination.COMMUNITY_MENTAL_HEALTH_TEAM,
    Destination.SOCIAL_PRESCRIBING,
)


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


async def report_outcomes(watch_url: str, feed: PracticeFeed, rng: random.Random, *, pcn_code: str) -> None:
    """The practices' clinical systems report attendance for MHP appointments, once each is over.

    `watch_url` is a login that may read the trust's events (the operator's, on a provisioned broker):
    the demo's stand-in for how a practice's clinical system learns of its bookings. The outcomes go out
    through `feed`, each as its own practice. An outcome cannot be recorded before its appointment starts
    (the contract and booking refuse it), so each is reported a moment after the appointment ends.
    """
    pending: set[asyncio.Task[None]] = set()

    async def when_over(booked: AppointmentBooked) -> None:
        ends = booked.data.starts_at + timedelta(minutes=booked.data.minutes)
        await asyncio.sleep(max(0.0, (ends - utcnow()).total_seconds()) + rng.uniform(1, 5))
        try:
            await feed.publish(practice_outcome(booked, rng))  # built now: recorded after the start
        except (ValueError, aio_pika.exceptions.AMQPError, aiormq.exceptions.AMQPError) as exc:
            log.warning("demo_outcome_not_sent", error=type(exc).__name__)

    connection = await aio_pika.connect_robust(watch_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(EXCHANGE, ensure=False)
        queue = await channel.declare_queue("demo.practice_outcomes", exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key=binding_key("appointment.booked", pcn_code=pcn_code))

        async def on_booked(message: AbstractIncomingMessage) -> None:
            async with message.process():
                booked = AppointmentBooked.model_validate_json(message.body)
            if booked.data.booked_by is not BookedBy.MHP_SERVICE or booked.practice_ods not in feed.practices:
                return
            task = asyncio.create_task(when_over(booked))
            pending.add(task)
            task.add_done_callback(pending.discard)

        await queue.consume(on_booked)
        # Until cancelled; closing the connection then ends the consumer (no cancel round trip to fail).
        await asyncio.Event().wait()
