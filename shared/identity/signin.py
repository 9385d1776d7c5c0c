"""Browser sign-in: the OIDC authorization code flow with PKCE, ending in a session cookie for pages.

`GET /auth/login?next=/path` sends the browser to the issuer's login with a fresh state, nonce and PKCE
verifier (kept in a short-lived signed cookie); `GET /auth/callback` exchanges the code for an access
token, checks it like any bearer token and keeps it in an `HttpOnly`, `SameSite=Lax` cookie (`Secure`
unless served on loopback). The cookie is accepted only for GET and HEAD (pages and the live feed), so
no state can be changed through it (no CSRF); every write still needs an `Authorization` header.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Annotated, Any

import httpx
import jwt
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse

from shared.identity.tokens import IdentityUnavailable, InvalidToken, NoPlatformRole, TokenVerifier

SESSION_COOKIE = "mhp_session"
SIGNIN_COOKIE = "mhp_signin"
SIGNIN_SECONDS = 300
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _safe_next(target: str | None) -> str:
    # Only a path on this service: never an open redirect to another site.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _secure(request: Request) -> bool:
    return (request.url.hostname or "") not in LOOPBACK


class SignIn:
    def __init__(self, verifier: TokenVerifier, client_id: str, cookie_secret: str) -> None:
        self.verifier = verifier
        self.client_id = client_id
        self.secret = cookie_secret
        self._endpoints: dict[str, str] | None = None

    async def endpoints(self) -> dict[str, str]:
        if self._endpoints is None:
            url = f"{self.verifier.issuer}/.well-known/openid-configuration"
            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    document = (await client.get(url)).raise_for_status().json()
            except (httpx.HTTPError, ValueError):
                raise IdentityUnavailable from None
            self._endpoints = {
                "authorize": str(document["authorization_endpoint"]),
                "token": str(document["token_endpoint"]),
            }
        return self._endpoints

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/auth", tags=["sign-in"], include_in_schema=False)

        @router.get("/login", name="signin_login")
        async def login(request: Request, next: Annotated[str | None, Query(max_length=500)] = None) -> Any:
            endpoints = await self.endpoints()
            verifier = _b64(secrets.token_bytes(32))
            state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            params = {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": str(request.url_for("signin_callback")),
                "scope": "openid profile",
                "state": state,
                "nonce": nonce,
                "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
                "code_challenge_method": "S256",
            }
            pending = {"state": state, "verifier": verifier, "next": _safe_next(next)}
            pending["exp"] = int(time.time()) + SIGNIN_SECONDS  # type: ignore[assignment]
            response = RedirectResponse(str(httpx.URL(endpoints["authorize"], params=params)), 303)
            response.set_cookie(
                SIGNIN_COOKIE,
                jwt.encode(pending, self.secret, algorithm="HS256"),
                max_age=SIGNIN_SECONDS,
                httponly=True,
                samesite="lax",
                secure=_secure(request),
                path="/auth",
            )
            return response

        @router.get("/callback", name="signin_callback")
        async def callback(
            request: Request,
            code: Annotated[str, Query(max_length=500)],
            state: Annotated[str, Query(max_length=200)],
        ) -> Any:
            try:
                pending = jwt.decode(
                    request.cookies.get(SIGNIN_COOKIE, ""), self.secret, algorithms=["HS256"]
                )
            except jwt.PyJWTError:
                raise HTTPException(
                    400, detail="sign-in expired or not started here; sign in again"
                ) from None
            if not secrets.compare_digest(str(pending.get("state")), state):
                raise HTTPException(400, detail="sign-in state does not match; sign in again")
            token = await self._exchange(request, code, str(pending["verifier"]))
            try:
                await self.verifier.verify(token["access_token"])
            except (InvalidToken, NoPlatformRole) as exc:
                raise HTTPException(403, detail=f"signed in, but: {exc.reason}") from None
            response = RedirectResponse(_safe_next(str(pending.get("next"))), 303)
            response.delete_cookie(SIGNIN_COOKIE, path="/auth")
            response.set_cookie(
                SESSION_COOKIE,
                token["access_token"],
                max_age=int(token.get("expires_in", 900)),
                httponly=True,
                samesite="lax",
                secure=_secure(request),
                path="/",
            )
            return response

        @router.get("/logout")
        async def logout() -> Any:
            response = RedirectResponse("/auth/signed-out", 303)
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response

        @router.get("/signed-out")
        async def signed_out() -> dict[str, str]:
            return {"detail": "signed out", "sign_in": "/auth/login"}

        return router

    async def _exchange(self, request: Request, code: str, verifier: str) -> dict[str, Any]:
        endpoints = await self.endpoints()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": str(request.url_for("signin_callback")),
            "client_id": self.client_id,
            "code_verifier": verifier,
        }
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.post(endpoints["token"], data=form)
        except httpx.HTTPError:
            raise IdentityUnavailable from None
        if answer.status_code != 200 or "access_token" not in answer.json():
            raise HTTPException(400, detail="the identity provider refused the sign-in; sign in again")
        return dict(answer.json())
