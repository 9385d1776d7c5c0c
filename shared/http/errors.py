"""How every service answers bad HTTP input: an actionable 4xx that never echoes what was sent.

FastAPI's default 422 body repeats the submitted value (`input`) and pydantic's context; a patient's NHS
number or a 1 MB string would come straight back. Here an error names the field and the rule only.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import NotYet, RuleViolation
from shared.identity.tokens import IdentityUnavailable
from shared.logging import redact_text

MAX_BODY_BYTES = 1024 * 1024
"""No request of ours needs more than a few KiB; a rota upload of a year of sessions is under 1 MiB."""
_MAX_LOC_PART = 64


def _safe_location(parts: tuple[Any, ...]) -> list[str | int]:
    # A location can hold a key the caller chose (an extra property's name): bound and scrub it.
    return [p if isinstance(p, int) else redact_text(str(p))[:_MAX_LOC_PART] for p in parts]


def validation_problems(error: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": _safe_location(tuple(item.get("loc", ()))), "msg": redact_text(str(item["msg"]))[:300]}
        | {"type": item.get("type", "value_error")}
        for item in error.errors()
    ]


async def _on_validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return JSONResponse({"detail": validation_problems(error)}, status_code=422)


async def _on_rule_violation(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RuleViolation)
    return JSONResponse({"detail": error.reason}, status_code=409)


async def _on_not_yet(_request: Request, error: Exception) -> JSONResponse:
    # A race lost to a concurrent change (a slot taken at commit): nothing was changed, try again. A 503
    # rather than a 409 so the idempotency store does not keep it: the same key may be retried.
    assert isinstance(error, NotYet)
    return JSONResponse({"detail": error.reason}, status_code=503, headers={"Retry-After": "1"})


async def _on_identity_unavailable(_request: Request, _error: Exception) -> JSONResponse:
    detail = "the identity provider cannot be reached; try again"
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "5"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(IdentityUnavailable, _on_identity_unavailable)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(RuleViolation, _on_rule_violation)
    app.add_exception_handler(NotYet, _on_not_yet)


class BodySizeLimit:
    """Refuses a request body over `limit` bytes with 413, whether or not it declared its length."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (
            not declared.isdigit() or len(declared) > 19 or int(declared) > self.limit
        ):
            await _too_large(send, self.limit)
            return
        received = 0
        refused = False

        async def bounded_receive() -> Message:
            # A body without a declared length (chunked) is counted as it arrives: past the limit the
            # caller gets its 413 at once and the app sees a client that has gone.
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    if not refused:
                        refused = True
                        await _too_large(send, self.limit)
                    return {"type": "http.disconnect"}
            return message

        async def unless_refused(message: Message) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, bounded_receive, unless_refused)
        except Exception:
            if not refused:
                raise  # a real failure, not the app reacting to the cut-off body


async def _too_large(send: Send, limit: int) -> None:
    body = f'{{"detail": "request body is larger than {limit} bytes"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
