"""The demo's people acting through the identity provider like any client: httpx auth that signs the
user in (authorization code + PKCE), sends the bearer token, and signs in again before it expires or
when a service answers 401."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator

import httpx

from mhp.idp.client import user_token_async

REFRESH_AFTER_SECONDS = 600.0
"""The embedded provider's access tokens live 15 minutes: sign in again well before."""


class SignedInAs(httpx.Auth):
    def __init__(self, issuer: str, user_id: str) -> None:
        self.issuer = issuer
        self.user_id = user_id
        self._token: str | None = None
        self._minted = 0.0

    async def _fresh(self, *, force: bool = False) -> str:
        if force or self._token is None or time.monotonic() - self._minted > REFRESH_AFTER_SECONDS:
            self._token = await user_token_async(self.issuer, self.user_id)
            self._minted = time.monotonic()
        return self._token

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {await self._fresh()}"
        response = yield request
        if response.status_code == 401:  # revoked, or the provider restarted with a new key
            request.headers["Authorization"] = f"Bearer {await self._fresh(force=True)}"
            yield request
