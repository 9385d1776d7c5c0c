"""The dashboard in a real browser (Debian chromium via Playwright): charts render and the live feed shows
an escalation published over the broker while the page is open.

The first tests carry a bearer token as an extra header on every request the browser makes, the page's
`EventSource` included (Chromium adds Playwright's extra headers to all of them). A plain browser's
EventSource cannot send a header: the last test signs in through the embedded provider's login page
instead, and the live feed rides on the session cookie.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from shared.contracts.codes import EscalationReason, EscalationTarget
from shared.contracts.v1 import CaseEscalated, CaseEscalatedData
from tests.metrics import journeys as gen
from tests.metrics.conftest import Served, publish_and_wait
from tests.support.amqp import publish_event
from tests.support.identity import PCN_MANAGER, TRUST_MANAGER, Tokens

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium")
async def test_dashboard_shows_pcns_charts_and_a_live_escalation_in_a_real_browser(
    served_metrics: Served, amqp_url: str, tokens: Tokens
) -> None:
    from playwright.async_api import async_playwright, expect

    journeys, sessions = gen.generate(seed=11, journeys_per_pcn=30)
    events = gen.events(journeys, sessions)
    await publish_and_wait(amqp_url, served_metrics.host, events)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            context = await browser.new_context(
                viewport={"width": 1400, "height": 1100}, extra_http_headers=tokens.user(TRUST_MANAGER)
            )
            page = await context.new_page()
            live_statuses: list[int] = []
            page.on(
                "response",
                lambda r: live_statuses.append(r.status) if r.url.endswith("/live") else None,
            )
            await page.goto(f"{served_metrics.base_url}/?month={gen.MONTH}")
            await expect(page.locator("h1")).to_have_text(f"Every PCN, {gen.MONTH}")
            for pcn in gen.PCNS:
                await expect(page.locator("#pcn-table")).to_contain_text(pcn)
            assert await page.locator("svg[aria-label^='DNA rate by PCN']").count() == 2
            assert await page.locator("svg[aria-label^='Seen within deadline by triage code']").count() == 1
            # Each PCN's waiting cases, oldest wait and open escalations stand beside its monthly figures.
            for heading in ("Waiting now", "Oldest wait", "Open escalations", "Median time to acknowledge"):
                await expect(page.locator("#pcn-table thead")).to_contain_text(heading)
            assert await page.locator("#pcn-table td.oldest-wait").count() == len(gen.PCNS)
            await expect(page.locator("#live-status")).to_contain_text("Live:")

            escalation = CaseEscalated.create(
                CaseEscalatedData(
                    escalation_id=uuid.uuid4(),
                    target=EscalationTarget.CRISIS_TEAM,
                    reason=EscalationReason.SAFEGUARDING,
                ),
                producer="RMH/referrals",
                pcn_code="U00456",
                practice_ods="Y02002",
                correlation_id=uuid.uuid4(),
            )
            await publish_event(amqp_url, escalation)
            newest = page.locator("#live-feed li").first
            await expect(newest).to_contain_text("U00456/Y02002", timeout=30_000)
            await expect(newest).to_contain_text("safeguarding")
            await expect(newest).to_contain_text("crisis team")
            # The alert came over an authenticated EventSource: the server let every /live request in.
            assert live_statuses
            assert set(live_statuses) == {200}

            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

            await page.click("text=U00123")
            await expect(page.locator("h1")).to_have_text(f"PCN U00123, {gen.MONTH}")
            expected = gen.expected_return(journeys, sessions, "U00123")["pcn_total"]
            first_row = page.locator("#return-table tbody tr").first
            await expect(first_row).to_contain_text(str(expected["initial_assessments"]["total"]))
            assert await page.locator("svg[aria-label='Capacity, U00123']").count() == 1
            await expect(page.locator("#waiting-table")).to_contain_text("Cases waiting to be seen")
            await expect(page.locator("#waiting-table")).to_contain_text("Open escalations")
            await page.screenshot(path=str(ARTIFACTS / "dashboard-pcn.png"), full_page=True)
        finally:
            await browser.close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium")
async def test_a_pcn_manager_sees_only_their_own_pcns_page(
    served_metrics: Served, amqp_url: str, tokens: Tokens
) -> None:
    from playwright.async_api import async_playwright, expect

    journeys, sessions = gen.generate(seed=5, journeys_per_pcn=5)
    await publish_and_wait(amqp_url, served_metrics.host, gen.events(journeys, sessions))
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            context = await browser.new_context(extra_http_headers=tokens.user(PCN_MANAGER))
            page = await context.new_page()
            own = await page.goto(f"{served_metrics.base_url}/dashboard/pcn/U00123?month={gen.MONTH}")
            assert own is not None
            assert own.status == 200
            await expect(page.locator("h1")).to_have_text(f"PCN U00123, {gen.MONTH}")
            # The trust page is not theirs, so the header does not offer it.
            assert await page.locator("header a[href='/']").count() == 0
            other = await page.goto(f"{served_metrics.base_url}/dashboard/pcn/U00456?month={gen.MONTH}")
            trust = await page.goto(f"{served_metrics.base_url}/?month={gen.MONTH}")
            assert other is not None
            assert other.status == 404
            assert trust is not None
            assert trust.status == 403
        finally:
            await browser.close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium")
async def test_a_person_signs_in_through_the_provider_and_the_live_feed_rides_on_the_session_cookie(
    served_metrics: Served, amqp_url: str, tokens: Tokens
) -> None:
    from playwright.async_api import async_playwright, expect

    await publish_and_wait(amqp_url, served_metrics.host, [_escalation("U00123", "Y01234")])
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = await browser.new_page()  # no extra headers: a plain browser
            await page.goto(f"{served_metrics.base_url}/health/live")
            # Before signing in, EventSource (which cannot set a header) is refused and gives up (CLOSED).
            assert await page.evaluate(EVENT_SOURCE_STATE) == 2

            # A page without a session sends the browser to sign in at the issuer, and back after.
            await page.goto(f"{served_metrics.base_url}/?month={gen.MONTH}")
            assert page.url.startswith(tokens.issuer)
            await page.click(f"button[value='{TRUST_MANAGER}']")
            await expect(page.locator("h1")).to_have_text(f"Every PCN, {gen.MONTH}")
            assert page.url == f"{served_metrics.base_url}/?month={gen.MONTH}"

            # The session cookie (HttpOnly, for GET only) authenticates the page's EventSource too.
            await expect(page.locator("#live-status")).to_contain_text("Live:")
            alert = _escalation("U00456", "Y04561")
            await publish_event(amqp_url, alert)
            await expect(page.locator("#live-feed li").first).to_contain_text("U00456/Y04561", timeout=30_000)
            cookies = {c["name"]: c for c in await page.context.cookies()}
            assert cookies["mhp_session"]["httpOnly"]
        finally:
            await browser.close()


EVENT_SOURCE_STATE = """() => new Promise((resolve) => {
    const source = new EventSource("/live");
    source.onerror = () => resolve(source.readyState);
    source.onopen = () => resolve("open");
})"""


def _escalation(pcn: str, practice: str) -> CaseEscalated:
    return CaseEscalated.create(
        CaseEscalatedData(
            escalation_id=uuid.uuid4(), target=EscalationTarget.CRISIS_TEAM, reason=EscalationReason.RISK
        ),
        producer="RMH/triage",
        pcn_code=pcn,
        practice_ods=practice,
        correlation_id=uuid.uuid4(),
    )
