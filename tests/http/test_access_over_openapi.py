"""Every business route of every service, walked from the app itself: who is refused, and how (issue 11).

For each operation of each service's OpenAPI document: no token, an expired token, one signed by another
key, one for another audience and one from another issuer each get 401; every role the route's policy
does not list gets 403 (so a trust manager or PCN manager never reaches a patient's identity); every
route declares a policy (none can be added unguarded) and documents 401/403/404 and the bearer scheme.
Tokens come from the real embedded provider; the services run on a real broker and database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.booking.bootstrap import build_host as build_booking
from services.booking.settings import BookingSettings
from services.metrics.bootstrap import build_host as build_metrics
from services.metrics.settings import MetricsSettings
from services.referrals.bootstrap import build_host as build_referrals
from services.referrals.settings import ReferralsSettings
from services.triage.bootstrap import build_host as build_triage
from services.triage.settings import TriageSettings
from shared.identity import Role
from shared.service import ServiceHost
from tests.support.identity import Tokens
from tests.support.routes import Operation, business_operations, concrete_path

pytestmark = pytest.mark.integration

BUILDERS: dict[str, tuple[Callable[..., ServiceHost], type[Any]]] = {
    "triage": (build_triage, TriageSettings),
    "booking": (build_booking, BookingSettings),
    "referrals": (build_referrals, ReferralsSettings),
    "metrics": (build_metrics, MetricsSettings),
}
BAD_TOKENS = ("expired", "other_key", "other_audience", "other_issuer", "not_yet_valid", "garbage")


@pytest.fixture(params=list(BUILDERS))
async def service(
    request: pytest.FixtureRequest, amqp_url: str, make_database_url: Callable[[str], str]
) -> AsyncIterator[tuple[ServiceHost, FastAPI, httpx.AsyncClient]]:
    build, settings_type = BUILDERS[request.param]
    host = build(settings_type(rabbitmq_url=amqp_url, database_url=make_database_url(request.param)))
    await host.start()
    try:
        app = host.http_app()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{request.param}") as client:
            yield host, app, client
    finally:
        await host.stop()


async def _send(client: httpx.AsyncClient, operation: Operation, headers: dict[str, str]) -> httpx.Response:
    # No body and no query: authentication and the role check come before any validation.
    return await client.request(operation.method, concrete_path(operation.path), headers=headers)


async def test_every_route_refuses_callers_it_cannot_trust(
    service: tuple[ServiceHost, FastAPI, httpx.AsyncClient], tokens: Tokens
) -> None:
    host, app, client = service
    operations = business_operations(app)
    assert operations, f"{host.name} has no business routes?"
    refusals: list[str] = []
    for operation in operations:
        for kind in ("none", *BAD_TOKENS):
            headers = {} if kind == "none" else {"Authorization": f"Bearer {tokens.forged(kind)}"}
            response = await _send(client, operation, headers)
            if (
                response.status_code != 401
                or "bearer" not in response.headers.get("www-authenticate", "").lower()
            ):
                refusals.append(f"{operation} with {kind} token: {response.status_code}")
    assert not refusals, "\n".join(refusals)


async def test_every_route_declares_who_may_call_it_and_refuses_every_other_role(
    service: tuple[ServiceHost, FastAPI, httpx.AsyncClient], tokens: Tokens
) -> None:
    host, app, client = service
    operations = business_operations(app)
    unguarded = [str(op) for op in operations if op.policy is None]
    assert not unguarded, f"routes of {host.name} without an access rule: {unguarded}"
    wrong: list[str] = []
    for operation in operations:
        for role in Role:
            if role in operation.allowed:
                continue
            response = await _send(client, operation, tokens.role(role))
            if response.status_code != 403 or role.value not in response.json().get("detail", ""):
                wrong.append(f"{operation} as {role}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


PATIENT_IDENTITY_FREE_ROLES = (Role.PCN_MANAGER, Role.TRUST_MANAGER, Role.OPERATOR)


def test_no_role_without_patient_identity_can_reach_a_route_returning_it(
    tokens: Tokens, amqp_url: str, make_database_url: Callable[[str], str]
) -> None:
    # Patient identity (NHS number, date of birth, reason, risk) is in these response schemas only.
    exposed = []
    for name, (build, settings_type) in BUILDERS.items():
        host = build(settings_type(rabbitmq_url=amqp_url, database_url=make_database_url(name)))
        app = host.http_app()
        document = app.openapi()
        identity_operations = _operations_returning(document, ("nhs_number", "date_of_birth"))
        for operation in business_operations(app):
            if (operation.method.lower(), operation.path) in identity_operations:
                exposed += [
                    f"{name} {operation} to {r}"
                    for r in PATIENT_IDENTITY_FREE_ROLES
                    if r in operation.allowed
                ]
    assert not exposed, "\n".join(exposed)


def _operations_returning(document: dict[str, Any], fields: tuple[str, ...]) -> set[tuple[str, str]]:
    schemas = document.get("components", {}).get("schemas", {})

    def mentions(schema: Any, seen: frozenset[str] = frozenset()) -> bool:
        if isinstance(schema, dict):
            ref = schema.get("$ref")
            if isinstance(ref, str):
                name = ref.rsplit("/", 1)[-1]
                return name not in seen and mentions(schemas.get(name), seen | {name})
            if any(field in schema.get("properties", {}) for field in fields):
                return True
            return any(mentions(value, seen) for value in schema.values())
        if isinstance(schema, list):
            return any(mentions(item, seen) for item in schema)
        return False

    found = set()
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            ok = {k: v for k, v in operation.get("responses", {}).items() if str(k).startswith("2")}
            if mentions(ok):
                found.add((method, path))
    return found


@pytest.mark.parametrize("name", list(BUILDERS))
def test_the_openapi_document_names_the_bearer_scheme_and_the_refusals(
    name: str, amqp_url: str, make_database_url: Callable[[str], str]
) -> None:
    build, settings_type = BUILDERS[name]
    app = build(settings_type(rabbitmq_url=amqp_url, database_url=make_database_url(name))).http_app()
    document = app.openapi()
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["bearer"]["description"],
    }
    undocumented = []
    for path, item in document["paths"].items():
        if path.startswith(("/health/", "/metrics")):
            assert "security" not in next(iter(item.values())), f"{path} is an open ops route"
            continue
        for method, operation in item.items():
            if operation.get("security") != [{"bearer": []}] or not {"401", "403", "404"} <= set(
                operation["responses"]
            ):
                undocumented.append(f"{method.upper()} {path}")
    assert not undocumented, f"{name}: operations without the scheme or 401/403/404: {undocumented}"
