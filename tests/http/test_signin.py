"""A person signs in from a browser: authorization code + PKCE through the embedded provider, ending in a
session cookie that opens pages and reads but never writes (issue 11)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from services.metrics.bootstrap import build_host
from services.metrics.settings import MetricsSettings
from shared.identity.signin import SESSION_COOKIE
from tests.support.http import free_port, serving
from tests.support.identity import TRUST_MANAGER

pytestmark = pytest.mark.integration


@pytest.fixture
async def metrics_url(amqp_url: str, make_database_url: Callable[[str], str]) -> AsyncIterator[str]:
    port = free_port()
    host = build_host(
        MetricsSettings(rabbitmq_url=amqp_url, database_url=make_database_url("metrics"), http_port=port)
    )
    async with serving(host.http_app(), port) as url:
        yield url


async def _sign_in(browser: httpx.AsyncClient, start: str, user_id: str) -> httpx.Response:
    """What a browser does: follow the service to the provider, pick the user, come back."""
    to_provider = await browser.get(start)
    assert to_provider.status_code == 303
    page = await browser.get(to_provider.headers["location"])
    assert page.status_code == 200
    action = re.search(r'<form[^>]*method="post"[^>]*action="([^"]*)"', page.text, re.I) or re.search(
        r'<form[^>]*action="([^"]*)"[^>]*method="post"', page.text, re.I
    )
    assert action is not None
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    chosen = await browser.post(urljoin(str(page.url), action.group(1)), data={**hidden, "user_id": user_id})
    assert chosen.status_code in (302, 303)
    back = chosen.headers["location"]
    assert "code" in parse_qs(urlsplit(back).query)
    return await browser.get(back)


async def test_a_person_signs_in_and_the_session_opens_the_page_they_asked_for(metrics_url: str) -> None:
    async with httpx.AsyncClient(base_url=metrics_url, timeout=30) as browser:
        # A page asked for with no session sends the browser to sign in, remembering where it was going.
        asked = await browser.get("/", headers={"accept": "text/html"})
        assert asked.status_code == 303
        assert asked.headers["location"].startswith("/auth/login?next=")

        landed = await _sign_in(browser, asked.headers["location"], TRUST_MANAGER)
        assert landed.status_code == 303
        assert landed.headers["location"] == "/"
        cookie = next(c for c in browser.cookies.jar if c.name == SESSION_COOKIE)
        assert cookie.has_nonstandard_attr("HttpOnly")
        assert not cookie.secure  # loopback only; any other host gets Secure
        set_cookie = landed.headers.get_list("set-cookie")
        assert any(SESSION_COOKIE in h and "samesite=lax" in h.lower() for h in set_cookie)

        page = await browser.get("/", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]


async def test_a_session_cookie_never_authorises_a_write(metrics_url: str) -> None:
    async with httpx.AsyncClient(base_url=metrics_url, timeout=30) as browser:
        await _sign_in(browser, "/auth/login?next=/", TRUST_MANAGER)
        assert any(c.name == SESSION_COOKIE for c in browser.cookies.jar)
        # A cross-site form post carries the cookie; it must not count as being signed in.
        for method in ("POST", "PUT", "DELETE"):
            response = await browser.request(method, "/reports/trust")
            assert response.status_code in (401, 405), method
        signed_out = await browser.get("/auth/logout")
        assert signed_out.status_code == 303
        assert (await browser.get("/reports/trust")).status_code == 401


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
async def test_sign_in_never_redirects_off_the_service(metrics_url: str, target: str) -> None:
    async with httpx.AsyncClient(base_url=metrics_url, timeout=30) as browser:
        landed = await _sign_in(browser, f"/auth/login?next={target}", TRUST_MANAGER)
        assert landed.headers["location"] == "/"


async def test_a_callback_without_this_browsers_sign_in_is_refused(metrics_url: str) -> None:
    async with httpx.AsyncClient(base_url=metrics_url, timeout=30) as browser:
        forged = await browser.get("/auth/callback", params={"code": "stolen", "state": "guessed"})
        assert forged.status_code == 400
        assert not any(c.name == SESSION_COOKIE for c in browser.cookies.jar)
