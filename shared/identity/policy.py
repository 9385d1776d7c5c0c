"""Role-based access: one table per service of which roles may take which action.

A service declares its actions and the roles allowed each (`AccessPolicy({...})`), and a route asks for
one with `Depends(policy.requires(Action.X))`: the principal comes back, or 403 says why not. Whether
the principal's organisation covers the resource is the route's second question (`principal.can_see`),
answered 404 so that another organisation's data is not revealed to exist.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from enum import StrEnum
from typing import Any

from fastapi import HTTPException, Request

from shared.identity.principal import Principal, Role

SCOPED_NOT_FOUND = "not found"
"""The one answer for a resource that does not exist and for one in another organisation."""


class Forbidden(HTTPException):
    def __init__(self, reason: str) -> None:
        super().__init__(403, detail=reason)


class AccessPolicy:
    def __init__(self, rules: Mapping[StrEnum, frozenset[Role] | set[Role]]) -> None:
        self.rules: dict[str, frozenset[Role]] = {str(a): frozenset(r) for a, r in rules.items()}

    def allows(self, role: Role, action: StrEnum) -> bool:
        return role in self.rules.get(str(action), frozenset())

    def check(self, principal: Principal, action: StrEnum) -> Principal:
        if not self.allows(principal.role, action):
            raise Forbidden(f"the {principal.role} role may not {action}")
        return principal

    def requires(self, action: StrEnum) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
        async def dependency(request: Request) -> Principal:
            return self.check(current_principal(request), action)

        dependency.__name__ = f"requires_{action}"
        # Named on the dependency so a test can read every route's rule off the app (tests/http).
        dependency.access = (self, action)  # type: ignore[attr-defined]
        return dependency


def current_principal(request: Request) -> Principal:
    """The principal the authenticating dependency put on the request (it runs before any route's)."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise HTTPException(401, detail="authentication required", headers={"WWW-Authenticate": "Bearer"})
    return principal


def not_found() -> HTTPException:
    return HTTPException(404, detail=SCOPED_NOT_FOUND)


def require_scope(principal: Principal, pcn_code: str, practice_ods: str | None = None) -> None:
    """404 unless the principal's organisation covers the PCN (and practice)."""
    if not principal.can_see(pcn_code, practice_ods):
        raise not_found()
