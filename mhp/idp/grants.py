"""The provider's OAuth logic without HTTP: authorization requests, single-use codes with PKCE, signed
client assertions (RFC 7523) with single-use `jti`, and the tokens it mints (RS256, CIS2-shaped)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from mhp.idp.keys import SigningKey
from mhp.idp.realm import DemoUser, PublicClient, Realm

CODE_SECONDS = 60
ASSERTION_MAX_SECONDS = 300
LEEWAY_SECONDS = 30
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# An S256 challenge is base64url(SHA-256) without padding: exactly 43 characters.
S256_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


class OAuthError(Exception):
    """An RFC 6749 error answer (`error`, `error_description`) with its HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


class LoginRefused(Exception):
    """A request that must not be redirected (unknown client or unregistered redirect URI)."""


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str

    def hidden_fields(self) -> dict[str, str]:
        """What the login form carries back to `POST /authorize`."""
        fields = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
        }
        fields.update({k: v for k, v in (("state", self.state), ("nonce", self.nonce)) if v is not None})
        return fields


@dataclass(frozen=True)
class _Code:
    request: AuthorizationRequest
    user: DemoUser
    expires: float


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


class Grants:
    def __init__(
        self,
        realm: Realm,
        key: SigningKey,
        system_keys: Mapping[str, rsa.RSAPublicKey],
        *,
        issuer: str,
        audience: str,
        access_token_seconds: int = 900,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.realm = realm
        self.key = key
        self.system_keys = dict(system_keys)
        self.issuer = issuer
        self.token_endpoint = f"{issuer}/token"
        self.audience = audience
        self.access_token_seconds = access_token_seconds
        self.clock = clock
        self._codes: dict[str, _Code] = {}
        self._seen_jti: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    # People: authorization code + PKCE.

    def client_and_redirect(self, params: Mapping[str, str]) -> PublicClient:
        """Checked before anything else: a bad client or redirect URI gets an error page, no redirect."""
        client = self.realm.clients.get(params.get("client_id", ""))
        if client is None:
            raise LoginRefused("unknown client_id: this provider has no such public client")
        if not client.allows_redirect(params.get("redirect_uri", "")):
            raise LoginRefused("redirect_uri is not registered for this client")
        return client

    def authorization_request(self, params: Mapping[str, str]) -> AuthorizationRequest:
        """Validate the rest; the errors raised here go back to the (registered) redirect URI."""
        self.client_and_redirect(params)
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "only response_type=code")
        scope = params.get("scope", "")
        if "openid" not in scope.split():
            raise OAuthError("invalid_scope", "scope must include openid")
        challenge = params.get("code_challenge", "")
        if params.get("code_challenge_method") != "S256" or not S256_CHALLENGE.match(challenge):
            raise OAuthError("invalid_request", "PKCE is required: code_challenge with method S256")
        return AuthorizationRequest(
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            scope=scope,
            state=params.get("state"),
            nonce=params.get("nonce"),
            code_challenge=challenge,
        )

    def issue_code(self, request: AuthorizationRequest, user_id: str) -> str:
        user = self.realm.users.get(user_id)
        if user is None:
            raise KeyError(user_id)
        code = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            self._codes = {c: v for c, v in self._codes.items() if v.expires > now}
            self._codes[code] = _Code(request, user, now + CODE_SECONDS)
        return code

    def exchange_code(self, form: Mapping[str, str]) -> dict[str, Any]:
        client_id = form.get("client_id")
        if not client_id:
            raise OAuthError("invalid_request", "client_id is required (public client)")
        if client_id not in self.realm.clients:
            raise OAuthError("invalid_client", "unknown client", 401)
        code, verifier = form.get("code"), form.get("code_verifier")
        if not code:
            raise OAuthError("invalid_request", "code is required")
        with self._lock:
            # Popped before any check: a code is spent by its first use, right or wrong.
            issued = self._codes.pop(code, None)
        if issued is None or issued.expires <= self.clock():
            raise OAuthError("invalid_grant", "the code is unknown, expired or already used")
        if issued.request.client_id != client_id:
            raise OAuthError("invalid_grant", "the code was issued to another client")
        if issued.request.redirect_uri != form.get("redirect_uri"):
            raise OAuthError("invalid_grant", "redirect_uri differs from the authorization request")
        if not verifier or not VERIFIER.match(verifier):
            raise OAuthError("invalid_request", "code_verifier (43-128 characters) is required")
        if not secrets.compare_digest(s256(verifier), issued.request.code_challenge):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        access = self.access_token(issued.user.id, client_id, person=issued.user)
        return {
            "access_token": access,
            "id_token": self._id_token(issued, access),
            "token_type": "Bearer",
            "expires_in": self.access_token_seconds,
            "scope": issued.request.scope,
        }

    # Practice systems: client credentials with a signed assertion (private_key_jwt).

    def client_credentials(self, form: Mapping[str, str]) -> dict[str, Any]:
        client_id = self._authenticate_system(form)
        return {
            "access_token": self.access_token(client_id, client_id),
            "token_type": "Bearer",
            "expires_in": self.access_token_seconds,
        }

    def _authenticate_system(self, form: Mapping[str, str]) -> str:
        assertion = form.get("client_assertion")
        if form.get("client_assertion_type") != JWT_BEARER or not assertion:
            if form.get("client_id") in self.realm.clients:
                raise OAuthError("unauthorized_client", "a public client cannot use client_credentials")
            raise OAuthError("invalid_client", f"authenticate with private_key_jwt ({JWT_BEARER})", 401)
        try:
            claimed = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise OAuthError("invalid_client", "client_assertion is not a JWT", 401) from None
        client_id = str(claimed.get("iss", ""))
        public = self.system_keys.get(client_id)
        if public is None or form.get("client_id", client_id) != client_id:
            raise OAuthError("invalid_client", "unknown client", 401)
        try:
            claims = jwt.decode(
                assertion,
                key=public,
                algorithms=["RS256"],
                audience=[self.token_endpoint, self.issuer],
                issuer=client_id,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise OAuthError("invalid_client", f"client_assertion refused: {exc}", 401) from None
        now = self.clock()
        if claims["sub"] != client_id:
            raise OAuthError("invalid_client", "client_assertion sub must equal iss (the client id)", 401)
        if float(claims["exp"]) > now + ASSERTION_MAX_SECONDS + LEEWAY_SECONDS:
            raise OAuthError("invalid_client", "client_assertion must expire within 5 minutes", 401)
        seen = (client_id, str(claims["jti"]))
        with self._lock:
            self._seen_jti = {k: t for k, t in self._seen_jti.items() if t > now}
            if seen in self._seen_jti:
                raise OAuthError("invalid_client", "client_assertion jti already used (replay)", 401)
            # Kept until the assertion could no longer be accepted anyway.
            self._seen_jti[seen] = float(claims["exp"]) + LEEWAY_SECONDS
        return client_id

    # Tokens.

    def access_token(self, subject: str, client_id: str, *, person: DemoUser | None = None) -> str:
        now = int(self.clock())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "exp": now + self.access_token_seconds,
            "nbf": now,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "client_id": client_id,
        }
        if person is not None:
            claims["name"] = person.name
            claims["selected_roleid"] = person.person_roleid
            claims["nhsid_nrbac_roles"] = [person.role_claim()]
        return self._sign(claims, "at+jwt")

    def _id_token(self, issued: _Code, access_token: str) -> str:
        now = int(self.clock())
        digest = hashlib.sha256(access_token.encode()).digest()
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": issued.request.client_id,
            "sub": issued.user.id,
            "exp": now + self.access_token_seconds,
            "iat": now,
            "auth_time": now,
            "name": issued.user.name,
            "at_hash": base64.urlsafe_b64encode(digest[:16]).decode().rstrip("="),
        }
        if issued.request.nonce is not None:
            claims["nonce"] = issued.request.nonce
        return self._sign(claims, "JWT")

    def _sign(self, claims: dict[str, Any], typ: str) -> str:
        return jwt.encode(
            claims, self.key.private, algorithm="RS256", headers={"kid": self.key.kid, "typ": typ}
        )

    def userinfo(self, token: str) -> dict[str, Any]:
        try:
            claims = jwt.decode(
                token,
                key=self.key.public,
                algorithms=["RS256"],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["sub", "exp"]},
            )
        except jwt.PyJWTError:
            raise OAuthError("invalid_token", "the access token does not verify", 401) from None
        keep = ("sub", "name", "selected_roleid", "nhsid_nrbac_roles", "client_id")
        return {k: claims[k] for k in keep if k in claims}
