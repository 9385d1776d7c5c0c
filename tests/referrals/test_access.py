"""Who may call referrals' routes, through the embedded provider on the real broker and database (issue 11).

Route by route: no token 401, a role without the right 403, another PCN's MHP or another practice's lead
404 (the same answer as a missing id), a body naming the clinician 422; the clinician recorded is the
token's user, and every read, change and refusal is in the access audit the IG lead can query.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlmodel import select

from services.referrals.adapters.tables import DnaFollowUp, Referral
from services.referrals.bootstrap import ReferralsHost
from shared.contracts.codes import Disposition
from tests.referrals.conftest import LEAD, PCN, api, call_triaged, dna
from tests.support.amqp import eventually, publish_event
from tests.support.identity import (
    IG_LEAD,
    MHP,
    MHP_2,
    OPERATOR,
    OTHER_LEAD,
    OTHER_PCN_MHP,
    PCN_MANAGER,
    STAFF,
    TRUST_MANAGER,
    Tokens,
)

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    """`{referral}` and `{follow_up}` stand for the seeded ones' ids."""
    operation: str
    body: dict[str, Any] | None = None

    @property
    def names_one(self) -> bool:
        return "{" in self.path

    def url(
        self, seeded: Seeded, *, referral: uuid.UUID | None = None, follow_up: uuid.UUID | None = None
    ) -> str:
        return self.path.format(
            referral=referral or seeded.referral_id, follow_up=follow_up or seeded.follow_up_id
        )

    async def call(self, http: httpx.AsyncClient, url: str, headers: dict[str, str] | None) -> httpx.Response:
        return await http.request(self.method, url, json=self.body, headers=headers)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ROUTES = [
    Route("GET", "/referrals", "referral.list"),
    Route("GET", "/referrals/{referral}", "referral.read"),
    Route("POST", "/referrals/{referral}/accept", "referral.accept"),
    Route("POST", "/referrals/{referral}/decline", "referral.decline", {"reason_code": "other"}),
    Route("POST", "/referrals/{referral}/complete", "referral.complete"),
    Route(
        "POST", "/referrals/{referral}/redirect", "referral.redirect", {"destination": "talking_therapies"}
    ),
    Route("GET", "/follow-ups", "follow_up.list"),
    Route("POST", "/follow-ups/{follow_up}/outcome", "follow_up.outcome", {"outcome": "rebooked"}),
]
ONE = [r for r in ROUTES if r.names_one]

WITHOUT_THE_RIGHT = {
    "practice_staff": STAFF,
    "pcn_manager": PCN_MANAGER,
    "trust_manager": TRUST_MANAGER,
    "ig_lead": IG_LEAD,
    "operator": OPERATOR,
}
"""Every role but the MHP and clinical lead (and the practice system, by its own token below)."""


@dataclass(frozen=True)
class Seeded:
    referral_id: uuid.UUID
    referral_episode: uuid.UUID
    follow_up_id: uuid.UUID
    follow_up_episode: uuid.UUID


async def _rows(host: ReferralsHost, table: Any) -> list[Any]:
    async with host.db.read() as session:
        return list((await session.exec(select(table))).all())


@pytest.fixture
async def seeded(referrals: ReferralsHost, amqp_url: str) -> Seeded:
    """One referral and one DNA follow-up of practice Y01234 (PCN U00123)."""
    triaged, missed = call_triaged(Disposition.REFER), dna()
    await publish_event(amqp_url, triaged)
    await publish_event(amqp_url, missed)

    async def both() -> bool:
        return len(await _rows(referrals, Referral)) == 1 and len(await _rows(referrals, DnaFollowUp)) == 1

    await eventually(both, message="referral and follow-up not made")
    [referral], [follow_up] = await _rows(referrals, Referral), await _rows(referrals, DnaFollowUp)
    return Seeded(referral.referral_id, triaged.correlation_id, follow_up.follow_up_id, missed.correlation_id)


async def _unchanged(host: ReferralsHost) -> None:
    """Nothing a refused caller sent was applied."""
    [referral] = await _rows(host, Referral)
    [follow_up] = await _rows(host, DnaFollowUp)
    assert (referral.status, follow_up.status) == ("made", "open")


async def _audit(http: httpx.AsyncClient, tokens: Tokens, **query: str | uuid.UUID) -> list[dict[str, Any]]:
    params = {name: str(value) for name, value in query.items()} | {"limit": "200"}
    response = await http.get("/audit", params=params, headers=tokens.user(IG_LEAD))
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


async def test_no_token_or_a_forged_one_is_401_on_every_route(
    referrals: ReferralsHost, seeded: Seeded
) -> None:
    async with api(referrals) as http:
        for route in ROUTES:
            for headers in (None, {"Authorization": "Bearer not.a.token"}):
                response = await route.call(http, route.url(seeded), headers)
                assert response.status_code == 401, (str(route), headers, response.text)
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
    await _unchanged(referrals)


async def test_every_role_without_the_right_is_403_on_every_route_and_refusals_are_audited(
    referrals: ReferralsHost, seeded: Seeded, tokens: Tokens
) -> None:
    callers = {role: tokens.user(user) for role, user in WITHOUT_THE_RIGHT.items()}
    callers["practice_system"] = tokens.system("Y01234")
    wrong: list[str] = []
    async with api(referrals) as http:
        for role, headers in callers.items():
            for route in ROUTES:
                response = await route.call(http, route.url(seeded), headers)
                if response.status_code != 403 or role not in response.json()["detail"]:
                    wrong.append(f"{role} {route}: {response.status_code} {response.text}")
        assert wrong == []
        await _unchanged(referrals)
        refused = await _audit(http, tokens, user=PCN_MANAGER)
    # A refusal naming an existing referral or follow-up is recorded; a refused list names none.
    assert {r["operation"] for r in refused} == {r.operation for r in ONE}
    assert {r["outcome"] for r in refused} == {"4"}
    assert {r["episode"] for r in refused} == {str(seeded.referral_episode), str(seeded.follow_up_episode)}


OTHERS_ASKING = {
    OTHER_PCN_MHP: [{"pcn": PCN}, {"practice": "Y01234"}, {"pcn": PCN, "practice": "Y01234"}],
    OTHER_LEAD: [{"practice": "Y01234"}, {"pcn": PCN, "practice": "Y01234"}],
    MHP: [{"practice": "Y04561"}, {"pcn": "U00456"}],  # a practice, or the PCN, of another PCN
}
"""Lists asked for another organisation's PCN or practice (404), by caller."""


async def test_another_pcns_mhp_and_another_practices_lead_get_the_answer_for_a_missing_id(
    referrals: ReferralsHost, seeded: Seeded, tokens: Tokens
) -> None:
    async with api(referrals) as http:
        for user in (OTHER_PCN_MHP, OTHER_LEAD):
            for route in ONE:
                response = await route.call(http, route.url(seeded), tokens.user(user))
                missing_url = route.url(seeded, referral=uuid.uuid4(), follow_up=uuid.uuid4())
                missing = await route.call(http, missing_url, tokens.user(MHP))
                assert response.status_code == 404, (user, str(route), response.text)
                assert response.json() == missing.json(), (user, str(route))
        for user, asked in OTHERS_ASKING.items():
            for list_path in ("/referrals", "/follow-ups"):
                for params in asked:
                    response = await http.get(list_path, params=params, headers=tokens.user(user))
                    assert response.status_code == 404, (user, list_path, params, response.text)
        for user in (OTHER_PCN_MHP, OTHER_LEAD):
            for list_path in ("/referrals", "/follow-ups"):
                # Asked for nothing (or its own PCN, for the lead): their own scope, without the seeded.
                own = await http.get(list_path, headers=tokens.user(user))
                assert (own.status_code, own.json()) == (200, []), (user, list_path)
        own = await http.get("/referrals", params={"pcn": PCN}, headers=tokens.user(OTHER_LEAD))
        assert (own.status_code, own.json()) == (200, [])
        await _unchanged(referrals)
        refused = await _audit(http, tokens, user=OTHER_PCN_MHP)
        lead_refused = await _audit(http, tokens, user=OTHER_LEAD)
    assert {r["operation"] for r in refused} == {r.operation for r in ONE}
    assert {r["outcome"] for r in refused + lead_refused} == {"4"}
    assert {r["entity_id"] for r in lead_refused} == {str(seeded.referral_id), str(seeded.follow_up_id)}


async def test_the_practices_lead_and_the_pcns_mhps_see_and_act_within_their_scope(
    referrals: ReferralsHost, seeded: Seeded, tokens: Tokens
) -> None:
    async with api(referrals) as http:
        for user, params in ((MHP, {"pcn": PCN}), (MHP_2, {}), (LEAD, {}), (LEAD, {"practice": "Y01234"})):
            for list_path, item in (("/referrals", seeded.referral_id), ("/follow-ups", seeded.follow_up_id)):
                response = await http.get(list_path, params=params, headers=tokens.user(user))
                assert response.status_code == 200, (user, list_path, response.text)
                assert [r.get("referral_id") or r["follow_up_id"] for r in response.json()] == [str(item)]
        read = await http.get(f"/referrals/{seeded.referral_id}", headers=tokens.user(LEAD))
        assert read.status_code == 200
        accepted = await http.post(f"/referrals/{seeded.referral_id}/accept", headers=tokens.user(LEAD))
        assert accepted.status_code == 200, accepted.text
        outcome = await http.post(
            f"/follow-ups/{seeded.follow_up_id}/outcome",
            json={"outcome": "rebooked"},
            headers=tokens.user(MHP_2),
        )
        assert outcome.status_code == 200, outcome.text
        referral_audit = await _audit(http, tokens, episode=seeded.referral_episode)
        follow_up_audit = await _audit(http, tokens, episode=seeded.follow_up_episode)
    assert outcome.json()["recorded_by"] == MHP_2
    [row] = await _rows(referrals, DnaFollowUp)
    assert row.recorded_by == MHP_2
    seen = {(r["agent_user"], r["operation"], r["action"], r["outcome"]) for r in referral_audit}
    assert {
        (MHP, "referral.list", "E", "0"),
        (MHP_2, "referral.list", "E", "0"),
        (LEAD, "referral.list", "E", "0"),
        (LEAD, "referral.read", "R", "0"),
        (LEAD, "referral.accept", "U", "0"),
    } <= seen
    assert all(r["entity_id"] == str(seeded.referral_id) for r in referral_audit)
    assert all(r["patient"] is None for r in referral_audit)  # referrals holds no NHS number
    assert {(r["agent_user"], r["operation"], r["action"]) for r in follow_up_audit} >= {
        (MHP, "follow_up.list", "E"),
        (MHP_2, "follow_up.outcome", "U"),
    }
    lead = next(r for r in referral_audit if r["operation"] == "referral.accept")
    assert (lead["agent_role"], lead["agent_organisation"]) == ("clinical_lead", "Y01234")


async def test_a_body_naming_the_clinician_is_refused_and_the_redirect_records_the_token_user(
    referrals: ReferralsHost, seeded: Seeded, tokens: Tokens
) -> None:
    url = f"/referrals/{seeded.referral_id}"
    async with api(referrals, tokens.user(MHP_2)) as http:
        for path, body in (
            (f"{url}/redirect", {"destination": "talking_therapies", "clinician": MHP}),
            (f"/follow-ups/{seeded.follow_up_id}/outcome", {"outcome": "rebooked", "clinician": MHP}),
            (f"{url}/decline", {"reason_code": "other", "decided_by": MHP}),
        ):
            response = await http.post(path, json=body)
            assert response.status_code == 422, (path, response.text)
            assert response.json()["detail"][0]["loc"][0] == "body"
        await _unchanged(referrals)
        # Declined by both CMHTs of the directory: unplaced, for a clinician to redirect.
        for _ in range(2):
            [open_one] = (await http.get("/referrals")).json()
            declined = await http.post(
                f"/referrals/{open_one['referral_id']}/decline", json={"reason_code": "service_unavailable"}
            )
            assert declined.status_code == 200, declined.text
        assert declined.json()["status"] == "unplaced"
        unplaced = declined.json()["referral_id"]
        redirected = await http.post(
            f"/referrals/{unplaced}/redirect", json={"destination": "talking_therapies"}
        )
        assert redirected.status_code == 201, redirected.text
        old = (await http.get(f"/referrals/{unplaced}")).json()
        audit = await _audit(http, tokens, episode=seeded.referral_episode)
    assert old["redirected_by"] == MHP_2
    async with referrals.db.read() as session:
        row = await session.get(Referral, uuid.UUID(unplaced))
    assert row is not None
    assert row.redirected_by == MHP_2
    changes = {(r["operation"], r["action"], r["entity_id"]) for r in audit if r["agent_user"] == MHP_2}
    assert {
        ("referral.decline", "U", unplaced),
        ("referral.redirect", "U", unplaced),
        ("referral.reroute", "C", redirected.json()["referral_id"]),
    } <= changes
