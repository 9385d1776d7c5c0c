"""Who may call triage's routes, through the embedded provider on the real broker and database (issue 11).

Route by route: no token 401, a role without the right 403, another PCN's MHP or another practice's lead
404 (the same answer as a missing id), a body naming the clinician 422; the clinician of `call.triaged`
is the token's user, and every read, list, decision and refusal is in the audit the IG lead can query.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from services.triage.adapters.tables import TriageCall, TriageDecision
from services.triage.bootstrap import TriageHost
from shared.contracts.routing import binding_key
from shared.contracts.v1 import CallReceived
from tests.support.amqp import EventCapture, eventually, publish_event
from tests.support.clock import MONDAY_10AM
from tests.support.factories import call_received
from tests.support.identity import (
    IG_LEAD,
    LEAD,
    MHP,
    MHP_2,
    OPERATOR,
    OTHER_LEAD,
    OTHER_PCN_MANAGER,
    OTHER_PCN_MHP,
    PCN_MANAGER,
    STAFF,
    TRUST_MANAGER,
    Tokens,
)
from tests.triage.conftest import api

pytestmark = pytest.mark.integration

PCN = "U00123"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    """`{call}` stands for the seeded call's id."""
    operation: str
    allowed: frozenset[str]
    """The roles the route is for (every other role is 403)."""
    body: dict[str, Any] | None = None

    @property
    def names_a_call(self) -> bool:
        return "{call}" in self.path

    async def call(
        self, http: httpx.AsyncClient, call_id: uuid.UUID, headers: dict[str, str] | None
    ) -> httpx.Response:
        url = self.path.format(call=call_id)
        return await http.request(self.method, url, json=self.body, headers=headers)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ROUTES = [
    Route("GET", f"/worklist?pcn={PCN}", "worklist.read", frozenset({"mhp"})),
    Route("POST", "/calls/{call}/decision", "decision.record", frozenset({"mhp"}), {"triage_code": "D"}),
    Route("GET", "/calls/{call}", "call.read", frozenset({"mhp", "clinical_lead"})),
]
ONE_CALL = [r for r in ROUTES if r.names_a_call]

PEOPLE = {
    "clinical_lead": LEAD,
    "practice_staff": STAFF,
    "pcn_manager": PCN_MANAGER,
    "trust_manager": TRUST_MANAGER,
    "ig_lead": IG_LEAD,
    "operator": OPERATOR,
}
"""A demo user of every role but the MHP, in PCN U00123, practice Y01234 or the trust."""


@dataclass(frozen=True)
class Seeded:
    """Two calls awaiting triage in PCN U00123: one of practice Y01234, one of Y01235."""

    call: CallReceived
    neighbour: CallReceived

    @property
    def call_id(self) -> uuid.UUID:
        return self.call.data.call_id

    @property
    def nhs_number(self) -> str:
        return self.call.data.patient.nhs_number


async def _take_in(host: TriageHost, url: str, *events: CallReceived) -> None:
    for event in events:
        await publish_event(url, event)

    async def all_stored() -> bool:
        async with host.db.read() as session:
            found = [await session.get(TriageCall, e.data.call_id) for e in events]
        return all(row is not None for row in found)

    await eventually(all_stored, message="calls never reached the worklist")


@pytest.fixture
async def seeded(triage: TriageHost, amqp_url: str) -> Seeded:
    call = call_received(occurred_at=MONDAY_10AM)
    neighbour = call_received(practice_ods="Y01235", occurred_at=MONDAY_10AM)
    await _take_in(triage, amqp_url, call, neighbour)
    return Seeded(call, neighbour)


async def _decisions(host: TriageHost) -> int:
    async with host.db.read() as session:
        return int((await session.exec(select(func.count()).select_from(TriageDecision))).one())


async def _audit(http: httpx.AsyncClient, tokens: Tokens, **query: str | uuid.UUID) -> list[dict[str, Any]]:
    """The IG lead's view of the access audit, without the rows of the IG lead's own searches."""
    params = {name: str(value) for name, value in query.items()} | {"limit": "200"}
    response = await http.get("/audit", params=params, headers=tokens.user(IG_LEAD))
    assert response.status_code == 200, response.text
    return [row for row in response.json() if row["operation"] != "audit.search"]


async def test_no_token_or_a_forged_one_is_401_on_every_route(triage: TriageHost, seeded: Seeded) -> None:
    async with api(triage) as http:
        for route in ROUTES:
            for headers in (None, {"Authorization": "Bearer not.a.token"}):
                response = await route.call(http, seeded.call_id, headers)
                assert response.status_code == 401, (str(route), headers, response.text)
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
                assert seeded.nhs_number not in response.text
    assert await _decisions(triage) == 0


async def test_every_role_without_the_right_is_403_on_every_route_and_refusals_are_audited(
    triage: TriageHost, seeded: Seeded, tokens: Tokens
) -> None:
    callers = {role: tokens.user(user) for role, user in PEOPLE.items()}
    callers["practice_system"] = tokens.system("Y01234")
    wrong: list[str] = []
    async with api(triage) as http:
        for role, headers in callers.items():
            for route in ROUTES:
                if role in route.allowed:
                    continue
                response = await route.call(http, seeded.call_id, headers)
                detail = response.json().get("detail", "")
                if response.status_code != 403 or role not in detail or seeded.nhs_number in response.text:
                    wrong.append(f"{role} {route}: {response.status_code} {response.text}")
        assert wrong == []
        assert await _decisions(triage) == 0
        refused = await _audit(http, tokens, patient=seeded.nhs_number)
    # A refusal naming an existing call is recorded against its patient; a refused list names none.
    by_role = {(r["agent_role"], r["operation"]) for r in refused}
    assert by_role == {
        (role, route.operation) for role in callers for route in ONE_CALL if role not in route.allowed
    }
    assert {r["outcome"] for r in refused} == {"4"}
    assert {r["episode"] for r in refused} == {str(seeded.call.correlation_id)}
    assert {r["detail"] for r in refused} == {"refused: the role may not do this"}


async def test_managers_never_see_a_patients_identity(
    triage: TriageHost, seeded: Seeded, tokens: Tokens
) -> None:
    async with api(triage) as http:
        for user in (TRUST_MANAGER, PCN_MANAGER, OTHER_PCN_MANAGER):
            for route in ROUTES:
                response = await route.call(http, seeded.call_id, tokens.user(user))
                assert response.status_code == 403, (user, str(route), response.text)
                assert "may not" in response.json()["detail"]
                for identity in (seeded.nhs_number, seeded.call.data.reason, "date_of_birth"):
                    assert identity not in response.text


async def test_another_pcns_mhp_gets_the_answer_for_a_missing_call_and_is_audited_refused(
    triage: TriageHost, seeded: Seeded, tokens: Tokens
) -> None:
    async with api(triage) as http:
        for route in ONE_CALL:
            response = await route.call(http, seeded.call_id, tokens.user(OTHER_PCN_MHP))
            missing = await route.call(http, uuid.uuid4(), tokens.user(MHP))
            assert response.status_code == 404, (str(route), response.text)
            assert response.json() == missing.json(), str(route)
        asked = {
            OTHER_PCN_MHP: [
                {"pcn": PCN},
                {"pcn": PCN, "practice": "Y01234"},
                {"pcn": "U00456", "practice": "Y01234"},
            ],
            MHP: [
                {"pcn": "U00456"},
                {"pcn": PCN, "practice": "Y04561"},
                {"pcn": "U00456", "practice": "Y04561"},
            ],
        }
        for user, queries in asked.items():
            for params in queries:
                response = await http.get("/worklist", params=params, headers=tokens.user(user))
                assert (response.status_code, response.json()) == (404, {"detail": "not found"}), (
                    user,
                    params,
                )
        # Their own PCN's worklist: theirs, without U00123's calls.
        own = await http.get("/worklist", params={"pcn": "U00456"}, headers=tokens.user(OTHER_PCN_MHP))
        assert (own.status_code, own.json()) == (200, [])
        assert await _decisions(triage) == 0
        refused = await _audit(http, tokens, user=OTHER_PCN_MHP)
    assert {(r["operation"], r["action"], r["outcome"]) for r in refused} == {
        ("decision.record", "U", "4"),
        ("call.read", "R", "4"),
    }
    assert {(r["patient"], r["entity_id"]) for r in refused} == {(seeded.nhs_number, str(seeded.call_id))}
    assert {r["detail"] for r in refused} == {"refused: the call is outside the caller's organisation"}


async def test_a_clinical_lead_reads_only_their_own_practices_calls(
    triage: TriageHost, seeded: Seeded, tokens: Tokens
) -> None:
    neighbour = seeded.neighbour.data.call_id
    async with api(triage) as http:
        own = await http.get(f"/calls/{seeded.call_id}", headers=tokens.user(LEAD))
        theirs = await http.get(f"/calls/{neighbour}", headers=tokens.user(OTHER_LEAD))
        across = await http.get(f"/calls/{seeded.call_id}", headers=tokens.user(OTHER_LEAD))
        across_back = await http.get(f"/calls/{neighbour}", headers=tokens.user(LEAD))
        missing = await http.get(f"/calls/{uuid.uuid4()}", headers=tokens.user(LEAD))
        refused = await _audit(http, tokens, user=OTHER_LEAD)
    assert own.status_code == theirs.status_code == 200
    assert own.json()["patient"]["nhs_number"] == seeded.nhs_number
    assert theirs.json()["practice_ods"] == "Y01235"
    for response in (across, across_back):
        assert (response.status_code, response.json()) == (404, missing.json())
    assert {(r["entity_id"], r["action"], r["outcome"]) for r in refused} == {
        (str(neighbour), "R", "0"),
        (str(seeded.call_id), "R", "4"),
    }


async def test_the_clinician_of_call_triaged_is_the_token_user_and_a_body_naming_one_is_refused(
    triage: TriageHost, seeded: Seeded, tokens: Tokens, amqp_url: str
) -> None:
    url = f"/calls/{seeded.call_id}/decision"
    async with api(triage, tokens.user(MHP_2)) as http:
        for body in ({"triage_code": "D", "clinician": MHP}, {"triage_code": "D", "clinician": MHP_2}):
            named = await http.post(url, json=body)
            assert named.status_code == 422, named.text
            [error] = named.json()["detail"]
            assert (error["loc"], error["type"]) == (["body", "clinician"], "extra_forbidden")
        assert await _decisions(triage) == 0
        async with EventCapture(amqp_url, binding_key("call.triaged")) as capture:
            decided = await http.post(url, json={"triage_code": "D"})
            assert decided.status_code == 201, decided.text
            await capture.wait_for(1)
        call = (await http.get(f"/calls/{seeded.call_id}")).json()
    [triaged] = capture.of_type("call.triaged")
    assert triaged["event_id"] == decided.json()["event_id"]
    assert triaged["data"]["clinician"] == MHP_2
    assert [d["clinician"] for d in call["decisions"]] == [MHP_2]
    async with triage.db.read() as session:
        [row] = (await session.exec(select(TriageDecision))).all()
    assert row.clinician == MHP_2


async def test_the_worklist_the_read_and_the_decision_are_in_the_patients_audit(
    triage: TriageHost, seeded: Seeded, tokens: Tokens
) -> None:
    async with api(triage) as http:
        listed = await http.get("/worklist", params={"pcn": PCN}, headers=tokens.user(MHP))
        assert {e["call_id"] for e in listed.json()} == {
            str(seeded.call_id),
            str(seeded.neighbour.data.call_id),
        }
        read = await http.get(f"/calls/{seeded.call_id}", headers=tokens.user(LEAD))
        assert read.status_code == 200
        invalid = await http.post(
            f"/calls/{seeded.call_id}/decision",
            json={"triage_code": "F", "disposition": "appointment"},
            headers=tokens.user(MHP_2),
        )
        assert invalid.status_code == 422  # rolled back: no decision, no audit row of a change
        decided = await http.post(
            f"/calls/{seeded.call_id}/decision", json={"triage_code": "D"}, headers=tokens.user(MHP_2)
        )
        assert decided.status_code == 201
        again = await http.post(
            f"/calls/{seeded.call_id}/decision", json={"triage_code": "D"}, headers=tokens.user(MHP)
        )
        assert again.status_code == 200  # the same decision: kept, and the colleague's look recorded
        audit = await _audit(http, tokens, patient=seeded.nhs_number)
        by_episode = await _audit(http, tokens, episode=seeded.call.correlation_id)
    seen = sorted((r["agent_user"], r["operation"], r["action"], r["outcome"]) for r in audit)
    assert seen == sorted(
        [
            (MHP, "worklist.read", "E", "0"),
            (LEAD, "call.read", "R", "0"),
            (MHP_2, "decision.record", "U", "0"),
            (MHP, "decision.record", "U", "0"),
        ]
    )
    assert {(r["entity_type"], r["entity_id"]) for r in audit} == {("Call", str(seeded.call_id))}
    assert {r["episode"] for r in audit} == {str(seeded.call.correlation_id)}
    assert sorted(r["id"] for r in by_episode) == sorted(r["id"] for r in audit)
    change = next(r for r in audit if r["agent_user"] == MHP_2)
    assert change["detail"] == f"decision {decided.json()['decision_id']}"
    assert (change["agent_role"], change["agent_organisation"]) == ("mhp", PCN)
    repeat = next(r for r in audit if r["operation"] == "decision.record" and r["agent_user"] == MHP)
    assert repeat["detail"].startswith("unchanged")
    lead = next(r for r in audit if r["operation"] == "call.read")
    assert (lead["agent_role"], lead["agent_organisation"]) == ("clinical_lead", "Y01234")


async def test_the_worklist_is_paged_and_each_call_shown_is_audited_once(
    triage: TriageHost, amqp_url: str, tokens: Tokens
) -> None:
    events = [call_received(occurred_at=MONDAY_10AM) for _ in range(3)]
    await _take_in(triage, amqp_url, *events)
    async with api(triage, tokens.user(MHP)) as http:
        first = await http.get("/worklist", params={"pcn": PCN, "limit": 2})
        assert first.status_code == 200, first.text
        link = first.headers["Link"]
        assert link.endswith('; rel="next"')
        second = await http.get(link[1 : link.index(">")])
        assert second.status_code == 200
        assert "Link" not in second.headers
        audits = {
            e.data.patient.nhs_number: await _audit(http, tokens, patient=e.data.patient.nhs_number)
            for e in events
        }
    shown = [e["call_id"] for e in first.json() + second.json()]
    assert (len(first.json()), len(second.json())) == (2, 1)
    assert sorted(shown) == sorted(str(e.data.call_id) for e in events)
    for rows in audits.values():
        assert [(r["agent_user"], r["operation"], r["action"]) for r in rows] == [(MHP, "worklist.read", "E")]
