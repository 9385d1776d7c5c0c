"""The MHP's worklist and decisions over HTTP, on a real broker and database, with the events they publish."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from services.triage.adapters.tables import TriageCall, TriageDecision
from services.triage.bootstrap import TriageHost
from shared.contracts.codes import CallerUrgency
from shared.contracts.routing import binding_key
from shared.contracts.v1 import CallReceived
from shared.messaging.outbox import OutboxMessage
from tests.support.amqp import EventCapture, eventually, publish_event
from tests.support.clock import MONDAY_10AM, FakeClock
from tests.support.factories import call_received
from tests.support.identity import MHP, MHP_2, Tokens

pytestmark = pytest.mark.integration

PCN = "U00123"


async def _take_in(host: TriageHost, url: str, *events: CallReceived) -> None:
    for event in events:
        await publish_event(url, event)

    async def all_stored() -> bool:
        async with host.db.read() as session:
            for event in events:
                if await session.get(TriageCall, event.data.call_id) is None:
                    return False
        return True

    await eventually(all_stored, message="calls never reached the worklist")


def _urgent(event: CallReceived) -> CallReceived:
    data = event.data.model_copy(update={"caller_urgency": CallerUrgency.URGENT})
    return event.model_copy(update={"data": data})


async def _decide(
    client: httpx.AsyncClient, call_id: uuid.UUID, headers: dict[str, str] | None = None, **body: Any
) -> httpx.Response:
    """The decision as the client's MHP (or whoever `headers` names): the clinician is the token's user."""
    return await client.post(f"/calls/{call_id}/decision", json=body, headers=headers)


def _by_call(capture: EventCapture, event_type: str, call_id: uuid.UUID) -> list[dict[str, Any]]:
    return [e for e in capture.of_type(event_type) if e["data"]["call_id"] == str(call_id)]


async def test_worklist_orders_red_flags_then_caller_urgency_then_wait_and_shows_deadlines(
    triage: TriageHost, client: httpx.AsyncClient, amqp_url: str, clock: FakeClock
) -> None:
    oldest_routine = call_received(occurred_at=MONDAY_10AM - timedelta(minutes=50))
    newer_routine = call_received(occurred_at=MONDAY_10AM - timedelta(minutes=20))
    urgent = _urgent(call_received(occurred_at=MONDAY_10AM - timedelta(minutes=10)))
    red_flag = call_received(reason="took an overdose of paracetamol", occurred_at=MONDAY_10AM)
    other_practice = call_received(practice_ods="Y01235", occurred_at=MONDAY_10AM - timedelta(hours=1))
    other_pcn = call_received(pcn_code="U00999", occurred_at=MONDAY_10AM)
    await _take_in(
        triage, amqp_url, oldest_routine, newer_routine, urgent, red_flag, other_practice, other_pcn
    )
    clock.now = MONDAY_10AM + timedelta(minutes=5)

    response = await client.get("/worklist", params={"pcn": PCN, "practice": "Y01234"})
    assert response.status_code == 200, response.text
    entries = response.json()
    assert [e["call_id"] for e in entries] == [
        str(e.data.call_id) for e in (red_flag, urgent, oldest_routine, newer_routine)
    ]
    assert [e["waiting_minutes"] for e in entries] == [5, 15, 55, 25]
    assert entries[0]["red_flags"] is True
    assert entries[0]["priority"] == 0
    assert datetime.fromisoformat(entries[2]["callback_due_at"]) == MONDAY_10AM + timedelta(minutes=70)
    assert entries[2]["deadline_breached"] is False

    whole_pcn = (await client.get("/worklist", params={"pcn": PCN})).json()
    assert {e["call_id"] for e in whole_pcn} == {
        str(e.data.call_id) for e in (red_flag, urgent, oldest_routine, newer_routine, other_practice)
    }


async def test_decision_derives_respond_by_publishes_call_triaged_and_keeps_the_risk_formulation_private(
    triage: TriageHost, client: httpx.AsyncClient, amqp_url: str, clock: FakeClock
) -> None:
    event = call_received(occurred_at=MONDAY_10AM)
    await _take_in(triage, amqp_url, event)
    clock.now = MONDAY_10AM + timedelta(minutes=30)
    risk = {
        "summary": "Passive thoughts, no plan; lives with partner",
        "thoughts": True,
        "protective_factors": True,
    }
    async with EventCapture(amqp_url, binding_key("#")) as capture:
        response = await _decide(
            client, event.data.call_id, triage_code="D", modality="video", complex_needs=True, risk=risk
        )
        assert response.status_code == 201, response.text
        await eventually(lambda: len(_by_call(capture, "call.triaged", event.data.call_id)) == 1)
    body = response.json()
    assert body["disposition"] == "appointment"
    assert datetime.fromisoformat(body["respond_by"]) == clock.now + timedelta(hours=72)
    assert body["appointment_minutes"] == 60

    [triaged] = _by_call(capture, "call.triaged", event.data.call_id)
    assert triaged["event_id"] == body["event_id"]
    assert triaged["correlation_id"] == str(event.correlation_id)
    assert triaged["causation_id"] == str(event.event_id)
    assert triaged["data"]["triage_code"] == "D"
    assert triaged["data"]["modality"] == "video"
    assert triaged["data"]["appointment_minutes"] == 60
    assert datetime.fromisoformat(triaged["data"]["respond_by"]) == clock.now + timedelta(hours=72)
    wire = str(triaged)
    assert "Passive thoughts" not in wire
    assert "thoughts" not in triaged["data"]
    assert event.data.patient.nhs_number not in wire
    assert capture.of_type("case.escalated") == []

    call = (await client.get(f"/calls/{event.data.call_id}")).json()
    assert call["status"] == "triaged"
    [decision] = call["decisions"]
    assert decision["risk"]["summary"] == risk["summary"]
    assert decision["risk"]["thoughts"] is True
    assert decision["risk"]["plan"] is False
    worklist = (await client.get("/worklist", params={"pcn": PCN})).json()
    assert worklist == []


@pytest.mark.parametrize(("code", "target"), [("A", "emergency_services_999"), ("B", "crisis_team")])
async def test_codes_a_and_b_escalate_at_once_and_never_book_even_when_appointment_is_posted(
    triage: TriageHost, client: httpx.AsyncClient, amqp_url: str, code: str, target: str
) -> None:
    event = call_received(occurred_at=MONDAY_10AM, reason="says he has a plan to end his life")
    await _take_in(triage, amqp_url, event)
    async with EventCapture(amqp_url, binding_key("#")) as capture:
        response = await _decide(client, event.data.call_id, triage_code=code, disposition="appointment")
        assert response.status_code == 201, response.text
        await eventually(lambda: len(_by_call(capture, "case.escalated", event.data.call_id)) == 1)
        await eventually(lambda: len(_by_call(capture, "call.triaged", event.data.call_id)) == 1)
    body = response.json()
    assert body["disposition"] == "escalate"
    assert body["appointment_minutes"] is None
    assert "never given an MHP appointment" in body["notes"][0]
    [triaged] = _by_call(capture, "call.triaged", event.data.call_id)
    assert triaged["data"]["disposition"] == "escalate"
    assert triaged["data"]["appointment_minutes"] is None
    assert triaged["data"]["out_of_scope_reason"] == "crisis"
    [escalated] = _by_call(capture, "case.escalated", event.data.call_id)
    assert escalated["data"]["target"] == target
    assert escalated["data"]["reason"] == "risk"
    assert escalated["causation_id"] == triaged["event_id"]
    assert escalated["event_id"] == body["escalation_event_id"]


async def test_scope_by_age_on_the_day_of_the_call_17_and_66_out_18_and_65_in(
    triage: TriageHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    # The call is on Monday 16 November 2026.
    cases = {
        date(2008, 11, 17): ("out_of_scope", "under_18", "children_and_young_people_mh"),  # 17
        date(2008, 11, 16): ("appointment", None, None),  # 18 today
        date(1960, 11, 17): ("appointment", None, None),  # 65, 66 tomorrow
        date(1960, 11, 16): ("out_of_scope", "over_65", "older_adults_mh"),  # 66 today
    }
    events = {born: call_received(occurred_at=MONDAY_10AM, date_of_birth=born) for born in cases}
    await _take_in(triage, amqp_url, *events.values())
    async with EventCapture(amqp_url, binding_key("call.triaged")) as capture:
        for born, event in events.items():
            response = await _decide(client, event.data.call_id, triage_code="D")
            assert response.status_code == 201, response.text
            assert response.json()["disposition"] == cases[born][0], born
        await capture.wait_for(4)
    for born, event in events.items():
        [triaged] = _by_call(capture, "call.triaged", event.data.call_id)
        disposition, reason, destination = cases[born]
        assert (
            triaged["data"]["disposition"],
            triaged["data"]["out_of_scope_reason"],
            triaged["data"]["destination"],
        ) == (disposition, reason, destination), born


async def test_low_level_need_is_recorded_out_of_scope_and_signposted_to_talking_therapies(
    triage: TriageHost, client: httpx.AsyncClient, amqp_url: str
) -> None:
    event = call_received(occurred_at=MONDAY_10AM)
    await _take_in(triage, amqp_url, event)
    async with EventCapture(amqp_url, binding_key("call.triaged")) as capture:
        response = await _decide(client, event.data.call_id, triage_code="E", low_level_need=True)
        await capture.wait_for(1)
    assert response.status_code == 201, response.text
    assert response.json()["contact_outcome"] == "04"
    [triaged] = capture.of_type("call.triaged")
    assert triaged["data"]["disposition"] == "out_of_scope"
    assert triaged["data"]["out_of_scope_reason"] == "low_level_need"
    assert triaged["data"]["destination"] == "talking_therapies"


async def test_re_triage_supersedes_the_earlier_decision_in_sequence_and_the_audit_trail_keeps_all(
    triage: TriageHost, client: httpx.AsyncClient, amqp_url: str, clock: FakeClock, tokens: Tokens
) -> None:
    event = call_received(occurred_at=MONDAY_10AM)
    await _take_in(triage, amqp_url, event)
    async with EventCapture(amqp_url, binding_key("call.triaged")) as capture:
        first = (await _decide(client, event.data.call_id, triage_code="E")).json()
        clock.advance(timedelta(hours=1))
        second = (await _decide(client, event.data.call_id, tokens.user(MHP_2), triage_code="C")).json()
        repeated = await _decide(client, event.data.call_id, triage_code="C")  # agrees: not a re-triage
        third = (await _decide(client, event.data.call_id, triage_code="D")).json()
        await capture.wait_for(3)
        await triage.relay.run_once()  # a call.triaged for the repeat would have been staged by now
    assert repeated.status_code == 200
    assert repeated.json()["decision_sequence"] == 2
    assert second["supersedes"] == first["decision_id"]
    published = sorted(capture.of_type("call.triaged"), key=lambda e: e["data"]["decision_sequence"])
    assert [(e["event_id"], e["data"]["decision_sequence"]) for e in published] == [
        (first["event_id"], 1),
        (second["event_id"], 2),
        (third["event_id"], 3),
    ]
    assert published[1]["data"]["supersedes"] == first["event_id"]
    assert published[1]["data"]["disposition"] == "urgent_appointment"
    async with triage.db.read() as session:
        stored = await session.get(TriageCall, event.data.call_id)
    assert stored is not None
    assert stored.decision_sequence == 3

    call = (await client.get(f"/calls/{event.data.call_id}")).json()
    trail = [
        (d["triage_code"], d["decision_sequence"], d["current"], d["superseded_by"], d["clinician"])
        for d in call["decisions"]
    ]
    assert trail == [
        ("E", 1, False, second["decision_id"], MHP),
        ("C", 2, False, third["decision_id"], MHP_2),
        ("D", 3, True, None, MHP),
    ]


@pytest.mark.parametrize(
    ("body", "field", "message_part"),
    [
        ({"triage_code": "F", "disposition": "appointment"}, "disposition", "contradicts triage code F"),
        ({"triage_code": "C", "disposition": "advice"}, "disposition", "code C allows urgent_appointment"),
        ({"triage_code": "C", "low_level_need": True}, "low_level_need", "contradicts triage code C"),
        ({"triage_code": "D", "disposition": "out_of_scope"}, "disposition", "decided by the service"),
    ],
)
async def test_disposition_contradicting_the_code_is_refused_with_422_and_nothing_is_recorded(
    triage: TriageHost,
    client: httpx.AsyncClient,
    amqp_url: str,
    body: dict[str, Any],
    field: str,
    message_part: str,
) -> None:
    event = call_received(occurred_at=MONDAY_10AM)
    await _take_in(triage, amqp_url, event)
    response = await _decide(client, event.data.call_id, **body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", field]
    assert message_part in error["msg"]
    async with triage.db.read() as session:
        decisions = (await session.exec(select(func.count()).select_from(TriageDecision))).one()
        triaged = (
            await session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.event_type == "call.triaged")
            )
        ).one()
    assert (decisions, triaged) == (0, 0)
    worklist = (await client.get("/worklist", params={"pcn": PCN})).json()
    assert [e["call_id"] for e in worklist] == [str(event.data.call_id)]


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "field", "message_part"),
    [
        ("post", "/calls/{call}/decision", {"triage_code": "H"}, 422, "triage_code", "'A'"),
        ("post", "/calls/{call}/decision", {}, 422, "triage_code", "Field required"),
        (
            "post",
            "/calls/{call}/decision",
            {"triage_code": "D", "urgency": 1},
            422,
            "urgency",
            "Extra inputs",
        ),
        (
            "post",
            "/calls/{call}/decision",
            {"triage_code": "D", "clinician": "mhp.jones"},
            422,
            "clinician",
            "Extra inputs",
        ),
        (
            "post",
            "/calls/{call}/decision",
            {"triage_code": "D", "modality": "fax"},
            422,
            "modality",
            "telephone",
        ),
        (
            "post",
            "/calls/{call}/decision",
            {"triage_code": "D", "risk": {"thoughts": True}},
            422,
            "summary",
            "Field required",
        ),
        ("post", "/calls/not-a-uuid/decision", {"triage_code": "D"}, 422, "call_id", "UUID"),
        ("get", "/worklist?pcn=Z123", None, 422, "pcn", "pattern"),
        ("get", "/worklist?pcn=U00123&practice=y1", None, 422, "practice", "pattern"),
        ("get", "/worklist", None, 422, "pcn", "Field required"),
        ("get", "/worklist?pcn=U00123&limit=201", None, 422, "limit", "less than or equal to 200"),
        ("get", "/worklist?pcn=U00123&limit=0", None, 422, "limit", "greater than or equal to 1"),
    ],
)
async def test_bad_http_input_gets_a_4xx_naming_the_field_and_the_reason(
    triage: TriageHost,
    client: httpx.AsyncClient,
    method: str,
    path: str,
    payload: dict[str, Any] | None,
    status: int,
    field: str,
    message_part: str,
) -> None:
    url = path.format(call=uuid.uuid4())
    response = await (client.post(url, json=payload) if method == "post" else client.get(url))
    assert response.status_code == status
    errors = response.json()["detail"]
    matching = [e for e in errors if e["loc"][-1] == field]
    assert matching, errors
    assert message_part in matching[0]["msg"]


async def test_decision_or_audit_trail_for_an_unknown_call_is_404(
    triage: TriageHost, client: httpx.AsyncClient
) -> None:
    unknown = uuid.uuid4()
    decided = await _decide(client, unknown, triage_code="D")
    fetched = await client.get(f"/calls/{unknown}")
    for response in (decided, fetched):
        # The answer another PCN's call gets too (tests/triage/test_access.py): nothing is revealed.
        assert (response.status_code, response.json()) == (404, {"detail": "not found"})


async def test_openapi_document_lists_the_worklist_decision_and_audit_trail(
    triage: TriageHost, client: httpx.AsyncClient
) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/worklist", "/calls/{call_id}/decision", "/calls/{call_id}"} <= set(paths)
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    assert "callback_due_at" in schema["WorklistEntry"]["properties"]
    assert "risk" in schema["DecisionRequest"]["properties"]
    assert "clinician" not in schema["DecisionRequest"]["properties"]  # the token says who decided
