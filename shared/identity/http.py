"""The authenticating dependency every service route sits behind, and the OpenAPI security scheme.

`ServiceHost` mounts every router of a service under `protected_router()`, so a route added to a
service is authenticated without anyone remembering to ask; only `/health/*` and `/metrics` are left
open (they carry no patient or organisation data and the orchestrator and Prometheus must reach them).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from shared.identity.policy import current_principal
from shared.identity.principal import Principal
from shared.identity.signin import SESSION_COOKIE
from shared.identity.tokens import IdentityUnavailable, InvalidToken, NoPlatformRole, TokenVerifier

SAFE_METHODS = frozenset({"GET", "HEAD"})

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description=(
        "An access token from the configured OIDC issuer (NHS CIS2 for people, client credentials with a "
        "signed JWT for practice systems). `mhp token --role ROLE --org ODS` prints one from the demo's "
        "embedded provider."
    ),
)


class ErrorDetail(BaseModel):
    detail: str


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorDetail, "description": "No valid bearer token (missing, expired, bad issuer or key)"},
    403: {"model": ErrorDetail, "description": "The caller's role may not do this (the reason is given)"},
    404: {"model": ErrorDetail, "description": "Not found, or in an organisation the caller is not of"},
}


def _unauthorised(reason: str) -> HTTPException:
    # RFC 6750: a challenge naming the error, never echoing the token.
    return HTTPException(
        401,
        detail=reason,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{reason}"'},
    )


def _presented_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is not None:
        return credentials.credentials if credentials.scheme.lower() == "bearer" else None
    # A signed-in browser's session cookie, for reading only: a cookie rides along on cross-site
    # requests, so it must never be able to change anything (writes need the Authorization header).
    if request.method in SAFE_METHODS:
        return request.cookies.get(SESSION_COOKIE) or None
    return None


def _wants_a_page(request: Request) -> bool:
    return request.method in SAFE_METHODS and "text/html" in request.headers.get("accept", "")


async def authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    token = _presented_token(request, credentials)
    if not token:
        if _wants_a_page(request):  # a person in a browser: off to sign in, and back here after
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            login = request.url_for("signin_login").include_query_params(next=target)
            raise HTTPException(
                303, detail="sign in first", headers={"Location": login.path + "?" + login.query}
            )
        raise HTTPException(401, detail="authentication required", headers={"WWW-Authenticate": "Bearer"})
    verifier: TokenVerifier = request.app.state.verifier
    try:
        principal = await verifier.verify(token)
    except InvalidToken as exc:
        raise _unauthorised(exc.reason) from None
    except NoPlatformRole as exc:
        raise HTTPException(403, detail=exc.reason) from None
    except IdentityUnavailable:
        raise HTTPException(
            503, detail="the identity provider cannot be reached; try again", headers={"Retry-After": "5"}
        ) from None
    request.state.principal = principal
    return principal


def protected_router() -> APIRouter:
    """The router a service's routes are mounted under: authenticated, with the 401/403/404 documented."""
    return APIRouter(dependencies=[Depends(authenticate)], responses=AUTH_RESPONSES)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
