"""Every business route of a service app with the access rule it declares (read off its dependencies)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from shared.identity import AccessPolicy, Role

OPEN_PREFIXES = ("/health/", "/metrics", "/auth/", "/openapi.json", "/docs", "/redoc")
"""Open by design: ops (orchestrator, Prometheus), sign-in, and the API's own description."""


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    policy: AccessPolicy | None
    action: StrEnum | None

    @property
    def allowed(self) -> frozenset[Role]:
        if self.policy is None or self.action is None:
            return frozenset()
        return frozenset(role for role in Role if self.policy.allows(role, self.action))

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _access(dependant: Dependant) -> tuple[AccessPolicy, StrEnum] | None:
    for sub in dependant.dependencies:
        found: Any = getattr(sub.call, "access", None)
        if found is not None:
            return found  # type: ignore[no-any-return]
        nested = _access(sub)
        if nested is not None:
            return nested
    return None


def business_operations(app: FastAPI) -> list[Operation]:
    """Every route but the open ones, pages included (they are not in the OpenAPI document)."""
    operations = []
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if path.startswith(OPEN_PREFIXES):
            continue
        dependant = getattr(route, "dependant", None)
        assert isinstance(dependant, Dependant), f"{path} is not a FastAPI route"
        access = _access(dependant)
        for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}):
            policy, action = access if access else (None, None)
            operations.append(Operation(method, path, policy, action))
    return operations


def concrete_path(path: str) -> str:
    """A path template with every parameter filled by a well-formed value that names nothing real."""
    fills = {
        "practice_ods": "Y01234",
        "pcn": "U00123",
        "pcn_code": "U00123",
    }
    out = path
    while "{" in out:
        start, end = out.index("{"), out.index("}")
        name = out[start + 1 : end]
        out = out[:start] + fills.get(name, "6b1a3f0e-7c5d-4e2a-9f10-2d3c4b5a6978") + out[end + 1 :]
    return out
