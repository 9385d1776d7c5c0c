"""The demo OIDC provider's HTTP face (FastAPI): discovery, JWKS, the login page, token and userinfo.

DEMO ONLY: it signs in fictional people without a password. `create_app` refuses unless enabled
explicitly (`enabled=True` from code, or `MHP_EMBEDDED_IDP=enabled`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from mhp.idp.grants import JWT_BEARER, AuthorizationRequest, Grants, LoginRefused, OAuthError
from mhp.idp.keys import client_public_keys, signing_key
from mhp.idp.realm import DEFAULT_REALM, DemoUser, Realm

ENABLE_VARIABLE = "MHP_EMBEDDED_IDP"
DEFAULT_AUDIENCE = "mhp-platform"
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent), autoescape=True
)
# Tokens and the login page must never be cached; the page must not be framed (clickjacking).
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_PAGE_HEADERS = {
    **_NO_STORE,
    "X-Frame-Options": "DENY",
    # No form-action: browsers apply it to the redirect after the login form, to the client's own URI.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}


class ProviderNotEnabled(RuntimeError):
    pass


def require_enabled(enabled: bool) -> None:
    if not enabled and os.environ.get(ENABLE_VARIABLE) != "enabled":
        raise ProviderNotEnabled(
            "the embedded identity provider is a demo and test tool that signs anyone in without a "
            f"password; it starts only when enabled explicitly ({ENABLE_VARIABLE}=enabled). Production "
            "points OIDC_ISSUER at NHS CIS2 or the trust's own provider."
        )


def create_app(
    state_dir: Path,
    issuer: str,
    *,
    audience: str = DEFAULT_AUDIENCE,
    realm: Realm | None = None,
    access_token_seconds: int = 900,
    enabled: bool = False,
) -> FastAPI:
    """The provider for `issuer` (its own base URL), keys kept in `state_dir`."""
    require_enabled(enabled)
    realm = realm or Realm.load(DEFAULT_REALM)
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    grants = Grants(
        realm,
        signing_key(state_dir),
        client_public_keys(state_dir, sorted(realm.systems)),
        issuer=issuer.rstrip("/"),
        audience=audience,
        access_token_seconds=access_token_seconds,
    )
    app = FastAPI(title="MHP demo identity provider", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.grants = grants
    base = grants.issuer

    @app.get("/.well-known/openid-configuration")
    async def discovery() -> dict[str, Any]:
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": grants.token_endpoint,
            "jwks_uri": f"{base}/jwks",
            "userinfo_endpoint": f"{base}/userinfo",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
            "scopes_supported": ["openid", "profile", "nationalrbacaccess"],
            "claims_supported": ["sub", "name", "selected_roleid", "nhsid_nrbac_roles", "client_id"],
        }

    @app.get("/jwks")
    async def jwks() -> dict[str, Any]:
        return {"keys": [grants.key.jwk()]}

    @app.get("/authorize")
    async def authorize_page(request: Request) -> Response:
        return _authorize(grants, _single(request.query_params.multi_items()), None)

    @app.post("/authorize")
    async def authorize_login(request: Request) -> Response:
        form = _single((k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str))
        return _authorize(grants, form, form.get("user_id", ""))

    @app.post("/token")
    async def token(request: Request) -> Response:
        form = _single((k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str))
        try:
            if form.get("grant_type") == "authorization_code":
                body = grants.exchange_code(form)
            elif form.get("grant_type") == "client_credentials":
                body = grants.client_credentials(form)
            elif "grant_type" not in form:
                raise OAuthError("invalid_request", "grant_type is required")
            else:
                raise OAuthError("unsupported_grant_type", "authorization_code or client_credentials")
        except OAuthError as exc:
            return _error(exc)
        return JSONResponse(body, headers=_NO_STORE)

    @app.api_route("/userinfo", methods=["GET", "POST"])
    async def userinfo(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            if scheme.lower() != "bearer" or not token:
                raise OAuthError("invalid_token", "a bearer access token is required", 401)
            return JSONResponse(grants.userinfo(token.strip()), headers=_NO_STORE)
        except OAuthError as exc:
            challenge = f'Bearer error="{exc.error}", error_description="{exc.description}"'
            return _error(exc, {"WWW-Authenticate": challenge})

    return app


def _single(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    # RFC 6749 section 3.1: a parameter sent twice is an invalid request; keep none of its values.
    seen: dict[str, str] = {}
    repeated: set[str] = set()
    for key, value in items:
        if key in seen:
            repeated.add(key)
        seen[key] = value
    return {k: v for k, v in seen.items() if k not in repeated} | {k: "" for k in repeated}


def _error(exc: OAuthError, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": exc.error, "error_description": exc.description}
    return JSONResponse(body, status_code=exc.status, headers={**_NO_STORE, **(headers or {})})


def _authorize(grants: Grants, params: dict[str, str], user_id: str | None) -> Response:
    try:
        grants.client_and_redirect(params)
    except LoginRefused as refused:
        # Never redirect to a URI the client did not register: say so on a page of our own.
        return _page(None, grants, str(refused), 400)
    try:
        request = grants.authorization_request(params)
    except OAuthError as exc:
        return _redirect(
            params["redirect_uri"],
            {"error": exc.error, "error_description": exc.description},
            params.get("state"),
        )
    if user_id is None:
        return _page(request, grants, None, 200)
    try:
        code = grants.issue_code(request, user_id)
    except KeyError:
        return _page(request, grants, "Choose one of the demo users below.", 400)
    return _redirect(request.redirect_uri, {"code": code}, request.state)


def _redirect(uri: str, params: dict[str, str], state: str | None) -> RedirectResponse:
    if state is not None:
        params = {**params, "state": state}
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return RedirectResponse(urlunsplit(parts._replace(query=query)), 303, headers=_NO_STORE)


def _page(
    request: AuthorizationRequest | None, grants: Grants, error: str | None, status: int
) -> HTMLResponse:
    groups: dict[str, list[DemoUser]] = {}
    for user in grants.realm.users.values():
        groups.setdefault(f"{user.org_name} ({user.org_code})", []).append(user)
    html = _TEMPLATES.get_template("login.html").render(
        action="/authorize",
        fields=request.hidden_fields() if request else None,
        groups=list(groups.items()),
        error=error,
    )
    return HTMLResponse(html, status_code=status, headers=_PAGE_HEADERS)


__all__ = ["DEFAULT_AUDIENCE", "ENABLE_VARIABLE", "JWT_BEARER", "ProviderNotEnabled", "create_app"]
