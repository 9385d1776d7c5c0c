"""Every service's HTTP edge (ServiceHost.http_app): idempotent writes, bounded bodies, errors that
never echo input (issue 20). A probe service with one write route, on a real broker and database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Field as Column
from sqlmodel import SQLModel, select

from shared.contracts.text import CleanText, IdentifierFreeText, Instant
from shared.db import Database
from shared.errors import NotYet, RuleViolation
from shared.http.idempotency import IdempotencyMiddleware, IdempotencyRecord
from shared.identity import IdentitySettings, TokenVerifier
from shared.service import ServiceHost
from tests.support.identity import MHP, MHP_2, Tokens
from tests.support.probe import probe_host

pytestmark = pytest.mark.integration

NHS_NUMBER = "4474340116"  # a valid synthetic NHS number (Modulus 11)


class Note(SQLModel, table=True):
    __tablename__ = "test_http_notes"
    id: uuid.UUID = Column(primary_key=True)
    text: str


class NoteIn(BaseModel):
    text: IdentifierFreeText = Field(max_length=200)
    title: CleanText = Field(default="note", max_length=50)
    when: Instant | None = None
    count: int = Field(default=1, ge=1, le=10)


def _router(db: Database, gate: asyncio.Event) -> APIRouter:
    router = APIRouter()

    @router.post("/notes", status_code=201)
    async def add_note(note: NoteIn) -> dict[str, str]:
        if note.text == "slow":
            await gate.wait()
        if note.text == "explode":
            raise RuntimeError("a bug")
        if note.text == "commit then explode":
            async with db.transaction() as session:
                session.add(Note(id=uuid.uuid4(), text=note.text))
            raise RuntimeError("a bug after the change committed")
        if note.text == "refuse":
            raise RuleViolation("text: refused by the probe's rule")
        if note.text == "race":
            raise NotYet("slot: taken by a concurrent booking; try again")
        if note.text == "missing":
            raise HTTPException(404, "no such thing")
        async with db.transaction() as session:
            row = Note(id=uuid.uuid4(), text=note.text)
            session.add(row)
        return {"id": str(row.id)}

    @router.post("/exports")
    async def export() -> StreamingResponse:
        async def rows() -> AsyncIterator[bytes]:
            for n in range(3):
                await asyncio.sleep(0.01)
                yield f"row {n}\n".encode()

        return StreamingResponse(rows(), media_type="text/plain")

    return router


@pytest.fixture
async def client(
    amqp_url: str, make_database_url: Callable[[str], str], tokens: Tokens
) -> AsyncIterator[tuple[httpx.AsyncClient, ServiceHost, asyncio.Event]]:
    gate = asyncio.Event()
    host = probe_host("probe", amqp_url=amqp_url, database_url=make_database_url("probe"), tables=[Note])
    host.routers.append(_router(host.db, gate))  # the route writes through the host's own database
    app = host.http_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        headers = tokens.user(MHP)
        async with httpx.AsyncClient(transport=transport, base_url="http://probe", headers=headers) as http:
            yield http, host, gate


async def _notes(db: Database) -> int:
    async with db.read() as session:
        return int((await session.exec(select(func.count()).select_from(Note))).one())


async def _keys(db: Database) -> int:
    async with db.read() as session:
        return int((await session.exec(select(func.count()).select_from(IdempotencyRecord))).one())


async def test_a_replayed_write_returns_the_first_answer_and_changes_nothing(client: Any) -> None:
    http, host, _ = client
    first = await http.post("/notes", json={"text": "hello"}, headers={"Idempotency-Key": "k-1"})
    again = await http.post("/notes", json={"text": "hello"}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await _notes(host.db) == 1
    fresh = await http.post("/notes", json={"text": "hello"}, headers={"Idempotency-Key": "k-2"})
    assert fresh.json() != first.json()
    assert await _notes(host.db) == 2


async def test_a_key_reused_for_a_different_request_is_refused(client: Any) -> None:
    http, host, _ = client
    await http.post("/notes", json={"text": "hello"}, headers={"Idempotency-Key": "k-1"})
    other = await http.post("/notes", json={"text": "goodbye"}, headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]
    assert await _notes(host.db) == 1


async def test_a_second_send_while_the_first_is_running_gets_409_not_a_second_effect(client: Any) -> None:
    http, host, gate = client
    headers = {"Idempotency-Key": "slow-1"}
    first = asyncio.create_task(http.post("/notes", json={"text": "slow"}, headers=headers))

    async def claimed() -> bool:
        return await _keys(host.db) == 1

    for _ in range(200):
        if await claimed():
            break
        await asyncio.sleep(0.02)
    second = await http.post("/notes", json={"text": "slow"}, headers=headers)
    assert second.status_code == 409
    gate.set()
    assert (await first).status_code == 201
    assert await _notes(host.db) == 1


async def test_a_failure_after_the_route_ran_keeps_the_key_so_a_retry_changes_nothing(client: Any) -> None:
    http, host, _ = client
    headers = {"Idempotency-Key": "boom"}
    failed = await http.post("/notes", json={"text": "commit then explode"}, headers=headers)
    assert failed.status_code == 500
    again = await http.post("/notes", json={"text": "commit then explode"}, headers=headers)
    assert again.status_code == 409
    assert "unknown outcome" in again.json()["detail"]
    assert await _notes(host.db) == 1  # the change happened once, and the retry did not repeat it


async def test_the_same_key_on_another_route_is_another_request(client: Any) -> None:
    http, host, _ = client
    first = await http.post("/notes", json={"text": "hello"}, headers={"Idempotency-Key": "shared-key"})
    other = await http.post("/exports", headers={"Idempotency-Key": "shared-key"})
    assert (first.status_code, other.status_code) == (201, 200)
    assert await _keys(host.db) == 2


async def test_a_streamed_answer_is_sent_whole_and_replayed_whole(client: Any) -> None:
    http, _, _ = client
    first = await http.post("/exports", headers={"Idempotency-Key": "export-1"})
    again = await http.post("/exports", headers={"Idempotency-Key": "export-1"})
    assert first.text == again.text == "row 0\nrow 1\nrow 2\n"


async def test_a_client_that_disconnects_mid_upload_claims_nothing_and_runs_nothing(client: Any) -> None:
    http, host, _ = client
    ran: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        ran.append(scope["path"])

    messages = iter(
        [{"type": "http.request", "body": b'{"text":', "more_body": True}, {"type": "http.disconnect"}]
    )

    async def receive() -> Any:
        return next(messages)

    async def send(message: Any) -> None:
        raise AssertionError("nothing should be sent to a client that has gone")

    bearer = http.headers["authorization"].encode()
    headers = [(b"idempotency-key", b"cut-1"), (b"authorization", bearer)]
    scope = {"type": "http", "method": "POST", "path": "/notes", "headers": headers}
    verifier = TokenVerifier.from_settings(IdentitySettings())
    await IdempotencyMiddleware(app, host.db, verifier)(scope, receive, send)
    assert ran == []
    assert await _keys(host.db) == 0


async def test_a_lost_race_is_a_503_to_retry_and_its_key_stays_free(client: Any) -> None:
    http, host, _ = client
    lost = await http.post("/notes", json={"text": "race"}, headers={"Idempotency-Key": "race-1"})
    assert (lost.status_code, lost.headers["retry-after"]) == (503, "1")
    assert await _keys(host.db) == 0


async def test_4xx_answers_are_replayed_too(client: Any) -> None:
    http, _, _ = client
    first = await http.post("/notes", json={"text": "refuse"}, headers={"Idempotency-Key": "r-1"})
    again = await http.post("/notes", json={"text": "refuse"}, headers={"Idempotency-Key": "r-1"})
    assert first.status_code == again.status_code == 409
    assert again.json() == first.json() == {"detail": "text: refused by the probe's rule"}


@pytest.mark.parametrize("key", ["", "has space", "x" * 129, "semi;colon"])
async def test_a_malformed_key_is_refused(client: Any, key: str) -> None:
    http, host, _ = client
    response = await http.post("/notes", json={"text": "hello"}, headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert await _notes(host.db) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": f"patient {NHS_NUMBER} called"}, "text"),
        ({"text": "born 14/03/1990"}, "text"),
        ({"text": "hello\u202eevil"}, "text"),
        ({"text": "hello", "title": "bell\x07"}, "title"),
        ({"text": "x" * 1_000}, "text"),
        ({"text": "hello", "when": "9999-12-31T23:59:59Z"}, "when"),
        ({"text": "hello", "when": "0001-01-01T00:00:00Z"}, "when"),
        ({"text": "hello", "when": "0001-01-01T00:00:00+01:00"}, "when"),
        ({"text": "hello", "when": 1700000000}, "when"),
        ({"text": "hello", "count": 10**30}, "count"),
    ],
)
async def test_bad_input_is_a_4xx_that_names_the_field_and_never_echoes_the_value(
    client: Any, body: dict[str, Any], field: str
) -> None:
    http, host, _ = client
    response = await http.post("/notes", json=body)
    assert response.status_code == 422
    problems = response.json()["detail"]
    assert [p["loc"][-1] for p in problems] == [field]
    text = response.text
    for value in body.values():
        if value != "hello":
            assert str(value) not in text
    assert NHS_NUMBER not in text
    assert "input" not in problems[0]
    assert await _notes(host.db) == 0


async def test_a_body_over_a_mebibyte_is_refused_before_it_is_read(client: Any) -> None:
    http, _, _ = client
    response = await http.post("/notes", content=b'{"text": "' + b"x" * 2_000_000 + b'"}')
    assert response.status_code == 413
    assert len(response.content) < 200


async def test_a_chunked_body_over_a_mebibyte_is_refused_with_413(client: Any) -> None:
    http, host, _ = client

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(40):
            yield b"x" * 64_000
        yield b'"}'

    response = await http.post("/notes", content=chunks(), headers={"Idempotency-Key": "big-1"})
    assert response.status_code == 413
    assert await _notes(host.db) == 0


async def test_an_unknown_extra_key_is_not_echoed_at_length(client: Any) -> None:
    http, _, _ = client
    response = await http.post("/notes", json={"text": 5, "y" * 10_000: 1})
    assert response.status_code == 422
    assert len(response.content) < 1_000


async def test_another_caller_with_the_same_key_is_another_request(client: Any, tokens: Tokens) -> None:
    # Keys are chosen by clients: two people (or a guesser) using one key must never share an answer.
    http, host, _ = client
    mine = await http.post("/notes", json={"text": "mine"}, headers={"Idempotency-Key": "same-key"})
    theirs = await http.post(
        "/notes", json={"text": "mine"}, headers={"Idempotency-Key": "same-key", **tokens.user(MHP_2)}
    )
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json() != mine.json()
    assert await _notes(host.db) == 2


async def test_an_unauthenticated_write_with_a_key_is_refused_and_claims_nothing(client: Any) -> None:
    http, host, _ = client
    for authorization in ("", "Bearer not-a-token"):
        refused = await http.post(
            "/notes",
            json={"text": "hello"},
            headers={"Idempotency-Key": "anon-1", "Authorization": authorization},
        )
        assert refused.status_code == 401
    assert (await _keys(host.db), await _notes(host.db)) == (0, 0)
    # The key is still free for the real, authenticated request.
    real = await http.post("/notes", json={"text": "hello"}, headers={"Idempotency-Key": "anon-1"})
    assert real.status_code == 201
    assert "idempotent-replayed" not in real.headers
