"""Every HTTP route of every service, fuzzed from its own OpenAPI document (issue 20).

Schemathesis generates valid and invalid requests for each operation; each service runs as in production
(uvicorn, lifespan starting the host on a real broker and database), called with a token of a role the
operation allows (issue 11). For every request: no 5xx, and a 4xx never echoes a string the request sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

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
from tests.support.http import free_port, serving
from tests.support.identity import Tokens
from tests.support.routes import business_operations

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION = 12
BUILDERS: dict[str, tuple[Callable[..., ServiceHost], type[Any]]] = {
    "triage": (build_triage, TriageSettings),
    "booking": (build_booking, BookingSettings),
    "referrals": (build_referrals, ReferralsSettings),
    "metrics": (build_metrics, MetricsSettings),
}
OPS_PATHS = ("/health/", "/metrics")  # ops routes: not inputs a caller controls


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]  # keys are field names, echoed in `loc`
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


def _problems_with(case: Any, base_url: str, constants: str, headers: dict[str, str]) -> list[str]:
    response = case.call(base_url=base_url, timeout=30, headers=headers)
    where = f"{case.method} {case.formatted_path}"
    problems = []
    if response.status_code >= 500:
        problems.append(f"{where} answered {response.status_code}")
    elif 400 <= response.status_code < 500:
        text = response.text
        # Only strings long enough to be someone's data (short ones match field names by chance).
        # Strings the OpenAPI document itself holds (enum values) may be named in a message.
        echoed = [s for s in _strings(case.body) if len(s) >= 8 and s in text and s not in constants]
        if echoed:
            problems.append(f"{where} echoed {echoed[0][:40]!r} in its {response.status_code}")
    return problems


# The role each operation is fuzzed as: one its policy allows, so requests get past the access check.
PREFERRED_ROLES = (Role.MHP, Role.PCN_MANAGER, Role.TRUST_MANAGER, Role.PRACTICE_STAFF, Role.IG_LEAD)


def _callers(app: FastAPI, tokens: Tokens) -> dict[tuple[str, str], dict[str, str]]:
    callers = {}
    for operation in business_operations(app):
        role = next((r for r in PREFERRED_ROLES if r in operation.allowed), None)
        if role is not None:
            callers[(operation.method, operation.path)] = tokens.role(role)
    return callers


def _fuzz(
    document: dict[str, Any], base_url: str, callers: dict[tuple[str, str], dict[str, str]]
) -> tuple[int, list[str]]:
    """Run every operation's generated cases against the server; returns (requests sent, problems)."""
    schema = schemathesis.openapi.from_dict(document)
    constants = json.dumps(document)
    sent = 0
    problems: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid document raises here
        if operation.path.startswith(OPS_PATHS):
            continue
        caller = callers[(operation.method.upper(), operation.path)]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: Any) -> None:
                nonlocal sent
                sent += 1
                # `check` runs inside this iteration, so the loop's caller is the right one.
                problems.extend(_problems_with(case, base_url, constants, caller))  # noqa: B023

            try:
                check()
            except Unsatisfiable:
                continue  # e.g. no invalid request exists for a route without parameters
    return sent, problems


@pytest.mark.parametrize("service", list(BUILDERS))
async def test_no_route_answers_5xx_or_echoes_input_to_generated_requests(
    service: str, amqp_url: str, make_database_url: Callable[[str], str], tokens: Tokens
) -> None:
    build, settings_type = BUILDERS[service]
    port = free_port()
    host = build(
        settings_type(rabbitmq_url=amqp_url, database_url=make_database_url(service), http_port=port)
    )
    app = host.http_app()
    async with serving(app, port) as base_url:
        document = json.loads(json.dumps(app.openapi()))
        sent, problems = await asyncio.to_thread(_fuzz, document, base_url, _callers(app, tokens))
    assert sent > 0
    assert not problems, "\n".join(sorted(set(problems)))
