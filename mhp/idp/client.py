"""Getting tokens from an OIDC provider as a real client does (used by `mhp token`, the demo and tests).

People: authorization code + PKCE over HTTP, choosing the demo user on the login page as a browser
would. Practice systems: client credentials with a signed client assertion (RFC 7523 private_key_jwt).
Sync and async variants; `find_user` picks the demo user for a platform role at an organisation.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt

from mhp.idp.grants import JWT_BEARER
from mhp.idp.keys import load_private_key
from mhp.idp.realm import DemoUser, Realm, find_user

DEFAULT_ISSUER = "http://127.0.0.1:8009"
CLI_CLIENT_ID = "mhp-cli"
CLI_REDIRECT_URI = "http://127.0.0.1/mhp-cli/callback"
DEFAULT_SCOPE = "openid profile nationalrbacaccess"
ASSERTION_SECONDS = 60


class IdentityProviderError(RuntimeError):
    """The provider refused (the message says why) or answered something no OIDC provider would."""


class ProviderUnreachable(IdentityProviderError):
    pass


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class _LoginForm(HTMLParser):
    """The login page's form: its action, hidden fields and the users offered as submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.users: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self.action = a.get("action", "")
        elif tag == "input" and a.get("type") == "hidden" and "name" in a:
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "button" and a.get("name") == "user_id":
            self.users.add(a.get("value", ""))


@dataclass(frozen=True)
class _Endpoints:
    authorize: str
    token: str


@dataclass(frozen=True)
class _CodeFlow:
    """One sign-in's secrets and the pure steps of the flow; the HTTP drivers below are thin."""

    user_id: str
    client_id: str
    redirect_uri: str
    scope: str
    verifier: str
    state: str
    nonce: str

    @classmethod
    def new(cls, user_id: str, client_id: str, redirect_uri: str, scope: str) -> _CodeFlow:
        return cls(
            user_id,
            client_id,
            redirect_uri,
            scope,
            verifier=_b64(secrets.token_bytes(32)),
            state=secrets.token_urlsafe(16),
            nonce=secrets.token_urlsafe(16),
        )

    def authorize_params(self) -> dict[str, str]:
        return {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": _b64(hashlib.sha256(self.verifier.encode()).digest()),
            "code_challenge_method": "S256",
        }

    def login(self, page: httpx.Response) -> tuple[str, dict[str, str]]:
        if page.status_code != 200:
            raise IdentityProviderError(f"the login page refused the sign-in ({page.status_code})")
        form = _LoginForm()
        form.feed(page.text)
        if form.action is None:
            raise IdentityProviderError("the login page has no sign-in form")
        if self.user_id not in form.users:
            raise IdentityProviderError(f"the provider offers no demo user {self.user_id!r}")
        return urljoin(str(page.url), form.action), {**form.fields, "user_id": self.user_id}

    def code(self, answer: httpx.Response) -> str:
        location = answer.headers.get("location", "")
        if answer.status_code not in (302, 303) or not location.startswith(self.redirect_uri):
            raise IdentityProviderError(f"the login did not redirect back ({answer.status_code})")
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        if "error" in query:
            raise IdentityProviderError(
                f"sign-in refused: {query['error']}: {query.get('error_description')}"
            )
        if query.get("state") != self.state or "code" not in query:
            raise IdentityProviderError("the redirect carries no code for this sign-in (state differs)")
        return str(query["code"])

    def token_form(self, code: str) -> dict[str, str]:
        return {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "client_id": self.client_id,
            "code_verifier": self.verifier,
        }

    def tokens(self, answer: httpx.Response) -> dict[str, Any]:
        body = _token_body(answer)
        nonce = jwt.decode(str(body.get("id_token", "")), options={"verify_signature": False}).get("nonce")
        if nonce != self.nonce:
            raise IdentityProviderError("the id_token's nonce is not this sign-in's")
        return body


def _endpoints(answer: httpx.Response) -> _Endpoints:
    try:
        document = answer.raise_for_status().json()
        return _Endpoints(str(document["authorization_endpoint"]), str(document["token_endpoint"]))
    except (httpx.HTTPStatusError, ValueError, KeyError):
        raise IdentityProviderError(f"{answer.url} is not an OIDC discovery document") from None


def _token_body(answer: httpx.Response) -> dict[str, Any]:
    try:
        body: dict[str, Any] = answer.json()
    except ValueError:
        body = {}
    if answer.status_code != 200 or "access_token" not in body:
        detail = f"{body.get('error', answer.status_code)}: {body.get('error_description', '')}"
        raise IdentityProviderError(f"the token endpoint refused: {detail}")
    return body


def _discovery_url(issuer: str) -> str:
    return f"{issuer.rstrip('/')}/.well-known/openid-configuration"


def _unreachable(issuer: str) -> ProviderUnreachable:
    return ProviderUnreachable(
        f"no identity provider answers at {issuer}: start it (`mhp up`, or `mhp idp` with "
        "MHP_EMBEDDED_IDP=enabled) or pass the issuer it runs at"
    )


def sign_in(
    issuer: str,
    user_id: str,
    *,
    client_id: str = CLI_CLIENT_ID,
    redirect_uri: str = CLI_REDIRECT_URI,
    scope: str = DEFAULT_SCOPE,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """The token endpoint's whole answer (`access_token`, `id_token`, ...) for `user_id`'s sign-in."""
    flow = _CodeFlow.new(user_id, client_id, redirect_uri, scope)
    try:
        with httpx.Client(timeout=timeout) as http:
            endpoints = _endpoints(http.get(_discovery_url(issuer)))
            action, fields = flow.login(http.get(endpoints.authorize, params=flow.authorize_params()))
            code = flow.code(http.post(action, data=fields))
            return flow.tokens(http.post(endpoints.token, data=flow.token_form(code)))
    except httpx.TransportError:
        raise _unreachable(issuer) from None


async def sign_in_async(
    issuer: str,
    user_id: str,
    *,
    client_id: str = CLI_CLIENT_ID,
    redirect_uri: str = CLI_REDIRECT_URI,
    scope: str = DEFAULT_SCOPE,
    timeout: float = 10.0,
) -> dict[str, Any]:
    flow = _CodeFlow.new(user_id, client_id, redirect_uri, scope)
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            endpoints = _endpoints(await http.get(_discovery_url(issuer)))
            page = await http.get(endpoints.authorize, params=flow.authorize_params())
            action, fields = flow.login(page)
            code = flow.code(await http.post(action, data=fields))
            return flow.tokens(await http.post(endpoints.token, data=flow.token_form(code)))
    except httpx.TransportError:
        raise _unreachable(issuer) from None


def user_token(issuer: str, user_id: str, *, client_id: str = CLI_CLIENT_ID, timeout: float = 10.0) -> str:
    """A bearer access token for demo user `user_id` (authorization code + PKCE over HTTP)."""
    return str(sign_in(issuer, user_id, client_id=client_id, timeout=timeout)["access_token"])


async def user_token_async(
    issuer: str, user_id: str, *, client_id: str = CLI_CLIENT_ID, timeout: float = 10.0
) -> str:
    answer = await sign_in_async(issuer, user_id, client_id=client_id, timeout=timeout)
    return str(answer["access_token"])


def client_assertion(token_endpoint: str, client_id: str, key_path: Path) -> str:
    """An RFC 7523 client assertion: iss = sub = client id, aud = the token endpoint, single-use jti."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_endpoint,
        "iat": now,
        "exp": now + ASSERTION_SECONDS,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, load_private_key(key_path), algorithm="RS256")


def _credentials_form(token_endpoint: str, client_id: str, key_path: Path) -> dict[str, str]:
    try:
        assertion = client_assertion(token_endpoint, client_id, key_path)
    except (OSError, ValueError) as exc:
        raise IdentityProviderError(f"cannot read the key of {client_id} at {key_path}: {exc}") from None
    return {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion,
    }


def system_token(issuer: str, client_id: str, key_path: Path, *, timeout: float = 10.0) -> str:
    """A bearer access token for practice system `client_id`, authenticated by its private key."""
    try:
        with httpx.Client(timeout=timeout) as http:
            endpoints = _endpoints(http.get(_discovery_url(issuer)))
            form = _credentials_form(endpoints.token, client_id, Path(key_path))
            return str(_token_body(http.post(endpoints.token, data=form))["access_token"])
    except httpx.TransportError:
        raise _unreachable(issuer) from None


async def system_token_async(issuer: str, client_id: str, key_path: Path, *, timeout: float = 10.0) -> str:
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            endpoints = _endpoints(await http.get(_discovery_url(issuer)))
            form = _credentials_form(endpoints.token, client_id, Path(key_path))
            return str(_token_body(await http.post(endpoints.token, data=form))["access_token"])
    except httpx.TransportError:
        raise _unreachable(issuer) from None


__all__ = [
    "DEFAULT_ISSUER",
    "DemoUser",
    "IdentityProviderError",
    "ProviderUnreachable",
    "Realm",
    "client_assertion",
    "find_user",
    "sign_in",
    "sign_in_async",
    "system_token",
    "system_token_async",
    "user_token",
    "user_token_async",
]
