"""Idempotent writes: a state-changing request sent again with the same key gets the first answer.

A client that lost a response (timeout, dropped connection) sends the request again with the same
`Idempotency-Key` header (the FHIR routes also take BaRS's `X-Request-ID`). The first request's answer
is stored under the key; a replay returns it with `Idempotent-Replayed: true` and changes nothing.

- The key is claimed *before* the route runs (its own committed row), so two concurrent sends of one
  request cannot both run: the second gets 409 while the first is in progress.
- A key reused for a different request (method, path, query or body differ) is refused with 422.
- Keys are scoped to the caller (the verified token's user, role and organisation) and the route
  (method and path): another caller's key, or the same key on another route, is another request, so
  one caller can never be replayed another's answer. A request whose token does not verify is passed
  to the app unclaimed (it answers 401) and leaves nothing behind.
- Any answer under 500 is stored and replayed. A 503 (a race lost before anything committed) releases
  the key so the client may retry with it. Any other failure (a 5xx, an exception, a crash before the
  answer was stored) may have come after the route committed, so the claim stays "outcome unknown":
  replays get 409 and the client reads the resource, never a second effect.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.db import Database, UtcDateTime, utcnow
from shared.identity.tokens import TokenVerifier

KEY_HEADERS = (b"idempotency-key",)
FHIR_KEY_HEADERS = (b"idempotency-key", b"x-request-id")
_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
KEEP_FOR = timedelta(hours=24)


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "http_idempotency"

    key: str = Field(primary_key=True, max_length=128)
    fingerprint: str = Field(max_length=64)
    status_code: int | None = None
    """None while the first request is still being processed."""
    content_type: str | None = Field(default=None, max_length=200)
    body: bytes | None = None
    created_at: datetime = Field(sa_type=UtcDateTime)


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, db: Database, verifier: TokenVerifier) -> None:
        self.app = app
        self.db = db
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        raw_key = _key_of(scope)
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        if not _KEY.fullmatch(raw_key):
            await _answer(send, 400, {"detail": "Idempotency-Key: 1-128 letters, digits or _.:-"})
            return
        caller = await self._caller(scope)
        if caller is None:
            await self.app(scope, receive, send)  # unauthenticated: the app refuses it, nothing claimed
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client went away mid-upload: nothing claimed, nothing run
        key = _scoped(scope, raw_key, caller)
        fingerprint = _fingerprint(scope, body)
        existing = await self._claim(key, fingerprint)
        if existing is not None:
            await self._replay(send, existing, fingerprint)
            return
        status, content_type, chunks = await self._run(scope, body, receive, send)
        await self._record(key, status, content_type, b"".join(chunks))

    async def _caller(self, scope: Scope) -> str | None:
        """Who is sending, from the verified bearer token; None if it does not verify."""
        authorization = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            principal = await self.verifier.verify(token.strip())
        except Exception:  # any refusal: the authenticating dependency answers it properly
            return None
        return f"{principal.user_id}|{principal.role}|{principal.org_code}"

    async def _claim(self, key: str, fingerprint: str) -> IdempotencyRecord | None:
        """Claim the key for this request; returns the earlier record if the key was taken."""
        for _ in range(3):  # a claim released between our insert and our read: try again
            try:
                async with self.db.transaction() as session:
                    session.add(IdempotencyRecord(key=key, fingerprint=fingerprint, created_at=utcnow()))
                return None
            except IntegrityError:
                async with self.db.read() as session:
                    found = (await session.exec(select(IdempotencyRecord).where(_is(key)))).one_or_none()
                if found is not None:
                    return found
        raise RuntimeError("idempotency key could not be claimed")

    async def _replay(self, send: Send, record: IdempotencyRecord, fingerprint: str) -> None:
        if record.fingerprint != fingerprint:
            detail = "Idempotency-Key was already used for a different request; use a new key"
            await _answer(send, 422, {"detail": detail})
        elif record.status_code is None:
            detail = (
                "a request with this Idempotency-Key is in progress, or failed with an unknown outcome: "
                "read the resource before sending it again under a new key"
            )
            await _answer(send, 409, {"detail": detail}, ((b"retry-after", b"1"),))
        else:
            headers = [(b"idempotent-replayed", b"true")]
            if record.content_type:
                headers.append((b"content-type", record.content_type.encode()))
            await _send(send, record.status_code, headers, record.body or b"")

    async def _run(
        self, scope: Scope, body: bytes, receive: Receive, send: Send
    ) -> tuple[int, str | None, list[bytes]]:
        status = 500
        content_type: str | None = None
        chunks: list[bytes] = []
        delivered = False

        async def replay_body() -> Message:
            # The body once, as read; after that the real channel (disconnect detection, streaming).
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = dict(message.get("headers", []))
                content_type = headers.get(b"content-type", b"").decode() or None
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        # An exception here leaves the claim "outcome unknown": the route may have committed before it
        # failed, so a replay must not run it again (409 tells the client to check and use a new key).
        await self.app(scope, replay_body, capture)
        return status, content_type, chunks

    async def _record(self, key: str, status: int, content_type: str | None, body: bytes) -> None:
        async with self.db.transaction() as session:
            if status == 503:  # NotYet: a race lost before anything committed; the same key may retry
                await session.exec(delete(IdempotencyRecord).where(_is(key)))
                return
            if status >= 500:  # the route may or may not have committed: keep "outcome unknown"
                return
            record = (await session.exec(select(IdempotencyRecord).where(_is(key)))).one()
            record.status_code, record.content_type, record.body = status, content_type, body
            session.add(record)


async def purge_idempotency_keys(db: Database, older_than: timedelta = KEEP_FOR) -> None:
    async with db.transaction() as session:
        cutoff = utcnow() - older_than
        await session.exec(delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < cutoff))


def _is(key: str | None) -> Any:
    return col(IdempotencyRecord.key) == key


def _key_of(scope: Scope) -> str | None:
    names = FHIR_KEY_HEADERS if scope["path"].startswith("/fhir") else KEY_HEADERS
    headers = dict(scope.get("headers", []))
    for name in names:
        if name in headers:
            return str(headers[name].decode("latin-1"))
    return None


def _fingerprint(scope: Scope, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1")):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(body)
    return digest.hexdigest()


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None if the client disconnected before sending all of it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _scoped(scope: Scope, key: str, caller: str) -> str:
    """A key is one caller's for one route: another caller's, or another route's, is another request."""
    return hashlib.sha256(f"{caller}\0{scope['method']} {scope['path']}\0{key}".encode()).hexdigest()


async def _answer(
    send: Send, status: int, payload: dict[str, str], extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    headers = [(b"content-type", b"application/json"), *extra]
    await _send(send, status, headers, json.dumps(payload).encode())


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
