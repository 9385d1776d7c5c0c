"""Hosting one service: database, outbox relay, FastStream consumers and the HTTP API in one process.

Every service builds a `ServiceHost` in its composition root (`services/<name>/bootstrap.py`); the host
owns start-up order, health checks, Prometheus metrics and graceful shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aio_pika
import uvicorn
from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from faststream.rabbit import RabbitBroker
from faststream.rabbit.schemas import Channel
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlalchemy import Table

from shared.audit import AuditRecord
from shared.db import Database
from shared.http.audit_routes import build_audit_router
from shared.http.errors import BodySizeLimit, install_error_handlers
from shared.http.idempotency import IdempotencyMiddleware, IdempotencyRecord, purge_idempotency_keys
from shared.identity.http import protected_router
from shared.identity.settings import IdentitySettings
from shared.identity.signin import SignIn
from shared.identity.tokens import TokenVerifier
from shared.logging import get_logger
from shared.messaging.consumer import MessageProcessor, Subscription
from shared.messaging.inbox import InboxRecord
from shared.messaging.middleware import LogContextMiddleware
from shared.messaging.outbox import OutboxMessage, pending_count, purge_published
from shared.messaging.publisher import ConfirmingPublisher
from shared.messaging.relay import OutboxRelay
from shared.messaging.senders import SenderCheck, broker_user, check_trust_code
from shared.messaging.subscriber import register_subscriptions
from shared.messaging.topology import declare_topology
from shared.migrations import prepare_schema
from shared.settings import ServiceSettings

log = get_logger(__name__)

OUTBOX_BACKLOG = Gauge("mhp_outbox_backlog", "Outbox rows not yet published")
OLDEST_IN_FLIGHT = Gauge(
    "mhp_consumer_oldest_in_flight_seconds",
    "Age of the oldest delivery a consumer is still processing (0 when idle); alert when it keeps growing",
    ["queue"],
)

MESSAGING_TABLES: tuple[Table, ...] = (
    OutboxMessage.__table__,  # type: ignore[attr-defined]
    InboxRecord.__table__,  # type: ignore[attr-defined]
    IdempotencyRecord.__table__,  # type: ignore[attr-defined]
    AuditRecord.__table__,  # type: ignore[attr-defined]
)
"""The spine's tables every service database holds beside its own (outbox, inbox, idempotency, audit)."""

BackgroundTask = Callable[[], Awaitable[None]]


def with_connection_name(url: str, name: str) -> str:
    """FastStream ignores client_properties' connection_name; RabbitMQ reads `?name=` from the URL."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("name", name)
    return urlunsplit(parts._replace(query=urlencode(query)))


class ServiceHost:
    def __init__(
        self,
        *,
        name: str,
        settings: ServiceSettings,
        db: Database,
        subscriptions: Sequence[Subscription] = (),
        routers: Sequence[APIRouter] = (),
        background: Sequence[tuple[str, BackgroundTask]] = (),
        migrations: Path | None = None,
        title: str | None = None,
        description: str = "",
        identity: IdentitySettings | None = None,
    ) -> None:
        self.name = name
        self.identity = identity
        self.migrations = migrations
        """The service's Alembic directory (`services/<name>/migrations`): upgraded to head at start."""
        self.settings = settings
        self.db = db
        self.subscriptions = list(subscriptions)
        self.routers = list(routers)
        self.background = list(background)
        self.title = title or f"MHP {name} service"
        self.description = description
        self.publisher = ConfirmingPublisher(
            with_connection_name(settings.rabbitmq_url, f"{name}-publisher"),
            user_id=broker_user(settings, name),
        )
        self.relay = OutboxRelay(
            db,
            self.publisher,
            batch_size=settings.relay_batch_size,
            poll_interval=settings.relay_poll_seconds,
            lease=timedelta(seconds=settings.relay_lease_seconds),
            name=f"{name}-relay",
        )
        db.after_commit(self.relay.notify)
        self.broker = RabbitBroker(
            with_connection_name(settings.rabbitmq_url, f"{name}-consumer"),
            default_channel=Channel(prefetch_count=settings.prefetch),
            middlewares=[LogContextMiddleware],
            logger=None,  # we log through structlog; FastStream's per-message INFO lines cost throughput
            graceful_timeout=10.0,
        )
        self.processor = MessageProcessor(
            db=db,
            dead_letters=self.publisher,
            senders=SenderCheck(trust_code=settings.trust_code),
            delivery_limit=settings.delivery_limit,
            handler_timeout=settings.handler_timeout_seconds,
        )
        # A batch can hold at most the deliveries in hand, so the prefetch is also the batch size.
        self.queues = register_subscriptions(
            self.broker, name, self.subscriptions, self.processor, max_batch=settings.prefetch
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._relay_task: asyncio.Task[None] | None = None
        self.started = False

    async def start(self) -> None:
        # Consumers judge the trust's services' producers by `trust_code`: it must be the directory's.
        check_trust_code(
            self.settings.trust_code, (self.identity or IdentitySettings()).mhp_organisations_file
        )
        # With services/<name>/migrations: an Alembic upgrade to head (locked against a concurrent start).
        await prepare_schema(self.db, self.migrations)
        if self.settings.declare_topology:
            await declare_topology(
                self.settings.rabbitmq_url,
                [s.queue_spec(self.name, self.settings.delivery_limit) for s in self.subscriptions],
            )
        # Else the queues were provisioned: the consumers' passive declares fail loudly if one is missing.
        await self.publisher.connect()
        await self.broker.start()
        self._relay_task = self._spawn("outbox-relay", self.relay.run)
        self._spawn("outbox-housekeeping", self._housekeeping)
        for task_name, task in self.background:
            self._spawn(task_name, task)
        self.started = True
        log.info("service_started", queues=self.queues)

    def _spawn(self, task_name: str, factory: BackgroundTask) -> asyncio.Task[None]:
        async def supervised() -> None:
            # A background loop that dies would silently stop (say) the outbox: restart it instead.
            while True:
                try:
                    await factory()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.error("background_task_crashed", task=task_name, error=type(exc).__name__)
                    await asyncio.sleep(1.0)

        task = asyncio.create_task(supervised(), name=f"{self.name}:{task_name}")
        self._tasks.append(task)
        return task

    async def _housekeeping(self) -> None:
        while True:
            async with self.db.transaction() as session:
                await purge_published(session, older_than=timedelta(days=7))
                OUTBOX_BACKLOG.set(await pending_count(session))
            await purge_idempotency_keys(self.db)
            await asyncio.sleep(30)

    async def stop(self) -> None:
        self.started = False
        await self.broker.stop()  # waits up to graceful_timeout for in-flight handlers
        if self._relay_task is not None:
            # Let the relay finish its pass (cancelling it mid-pass would leave claimed rows leased).
            self.relay.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._relay_task), self.settings.relay_lease_seconds)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self.relay.run_once()  # publish what the last handlers committed
        await self.publisher.close()
        await self.db.dispose()
        log.info("service_stopped")

    async def readiness(self) -> dict[str, Any]:
        """Ready only if the database answers, the publisher is connected and every queue has a consumer.

        broker.ping() alone stays true after a queue is deleted under a consumer (faststream#2758).
        """
        checks: dict[str, Any] = {
            "started": self.started,
            "database": await self.db.ping(),
            "publisher": self.publisher.connected,
            "queues": await self._consumer_counts(),
            "stuck_queues": self.stuck_queues(),
        }
        checks["ready"] = bool(
            checks["started"]
            and checks["database"]
            and checks["publisher"]
            and all((count or 0) > 0 for count in checks["queues"].values())
            and not checks["stuck_queues"]
        )
        return checks

    def stuck_queues(self) -> list[str]:
        """Queues whose oldest in-flight delivery has not finished within the stuck threshold."""
        for queue in self.queues:
            OLDEST_IN_FLIGHT.labels(queue).set(self.processor.in_flight.oldest_age(queue))
        return self.processor.in_flight.stuck(self.queues, self.settings.consumer_stuck_seconds)

    async def _consumer_counts(self) -> dict[str, int | None]:
        counts: dict[str, int | None] = {}
        try:
            connection = await aio_pika.connect(self.settings.rabbitmq_url, timeout=5)
        except Exception:
            return dict.fromkeys(self.queues)
        async with connection:
            for queue in self.queues:
                try:
                    # A passive declare of a missing queue closes the channel: one channel per queue.
                    channel = await connection.channel()
                    declared = await channel.declare_queue(queue, passive=True)
                    result = declared.declaration_result
                    counts[queue] = result.consumer_count if result is not None else None
                    await channel.close()
                except Exception:
                    counts[queue] = None
        return counts

    def http_app(self) -> FastAPI:
        @contextlib.asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        app = FastAPI(title=self.title, description=self.description, lifespan=lifespan)
        app.state.host = self
        # Fails here, before serving, if OIDC_ISSUER or MHP_ORGANISATIONS_FILE is missing: no open mode.
        identity = self.identity or IdentitySettings()
        verifier = TokenVerifier.from_settings(identity)
        app.state.verifier = verifier
        signin = SignIn(
            verifier, identity.oidc_client_id, identity.mhp_session_secret or secrets.token_hex(32)
        )
        # Hostile input (issue 20): errors that never echo input, bounded bodies, idempotent writes.
        install_error_handlers(app)
        app.add_middleware(IdempotencyMiddleware, db=self.db, verifier=verifier)
        app.add_middleware(BodySizeLimit)  # added last: the outermost, before any body is buffered

        @app.get("/health/live", tags=["ops"])
        async def live() -> dict[str, str]:
            return {"status": "alive", "service": self.name}

        @app.get("/health/ready", tags=["ops"])
        async def ready() -> JSONResponse:
            checks = await self.readiness()
            return JSONResponse(checks, status_code=200 if checks["ready"] else 503)

        @app.get("/metrics", tags=["ops"], include_in_schema=False)
        async def metrics() -> Response:
            self.stuck_queues()  # refresh the in-flight age gauge for this scrape
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

        app.include_router(signin.router())  # open: it is how a person gets a session
        # Every service route sits behind the authenticating dependency; only ops and sign-in do not.
        protected = protected_router()
        for router in self.routers:
            protected.include_router(router)
        protected.include_router(build_audit_router(self.db))
        app.include_router(protected)
        return app

    def run(self) -> None:
        """Serve HTTP and consume until SIGTERM/SIGINT (uvicorn handles the signals)."""
        config = uvicorn.Config(
            self.http_app(),
            host=self.settings.http_host,
            port=self.settings.http_port,
            log_config=None,
            access_log=False,
            lifespan="on",
            **self.settings.uvicorn_tls(),  # HTTPS when <SERVICE>_HTTP_TLS_CERTFILE/KEYFILE are set
        )
        uvicorn.Server(config).run()
