"""Booking's routes on the real broker and database, through the embedded provider's tokens (issue 11).

No token: 401 on every route; each role the route's rule leaves out: 403; another PCN's manager or
MHP, and a practice system of another practice: 404, the answer a missing resource gets; every read and
change of an appointment, and every refused look at one, in the audit the IG lead queries by episode.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlmodel import col, select

from services.booking.adapters.tables import Appointment, Slot
from services.booking.application.access import POLICY, Action
from services.booking.bootstrap import build_host
from services.booking.entrypoints.rota_file import RotaEntry
from shared.contracts.codes import Modality, SessionPeriod
from shared.identity import Role
from shared.service import ServiceHost
from tests.support.amqp import eventually, publish_event
from tests.support.identity import (
    IG_LEAD,
    LEAD,
    MHP,
    OTHER_PCN_MANAGER,
    OTHER_PCN_MHP,
    PCN_MANAGER,
    STAFF,
    TRUST_MANAGER,
    Tokens,
)
from tests.support.routes import concrete_path

from .conftest import HOME, NOW, OTHER, PCN, TODAY, api, booking_settings, entry, load, triaged

pytestmark = pytest.mark.integration

ROUTES: dict[tuple[str, str], Action] = {
    ("POST", "/rota"): Action.LOAD_ROTA,
    ("GET", "/sessions"): Action.READ_SESSIONS,
    ("POST", "/sessions/{session_id}/cancel"): Action.CANCEL_SESSION,
    ("GET", "/slots"): Action.SEARCH_SLOTS,
    ("PUT", "/practices/{practice_ods}/direct-booking-cap"): Action.SET_CAP,
    ("GET", "/direct-booking-refusals"): Action.READ_REFUSALS,
    ("GET", "/counts/prescription-slots"): Action.COUNT_PRESCRIPTIONS,
    ("POST", "/appointments"): Action.BOOK,
    ("GET", "/appointments/{appointment_id}"): Action.READ_APPOINTMENT,
    ("POST", "/appointments/{appointment_id}/cancel"): Action.CANCEL_APPOINTMENT,
    ("GET", "/waitlist"): Action.READ_WAITLIST,
    ("GET", "/attendance-review"): Action.READ_ATTENDANCE_REVIEW,
    ("GET", "/fhir/Slot"): Action.SEARCH_SLOTS,
    ("POST", "/fhir/Appointment"): Action.BOOK,
    ("GET", "/fhir/Appointment/{appointment_id}"): Action.READ_APPOINTMENT,
    ("PUT", "/fhir/Appointment/{appointment_id}"): Action.CANCEL_APPOINTMENT,
}
SOUTH_PCN, SOUTH_PRACTICE = "U00456", "Y04561"


@pytest.fixture
def clock() -> dict[str, datetime]:
    return {"now": NOW}


@pytest.fixture
async def booking(
    amqp_url: str, booking_db_url: str, clock: dict[str, datetime]
) -> AsyncIterator[ServiceHost]:
    host = build_host(booking_settings(amqp_url, booking_db_url), clock=lambda: clock["now"])
    await host.start()
    yield host
    await host.stop()


async def _slot_starts(host: ServiceHost, practice: str) -> list[str]:
    async with host.db.read() as session:
        query = select(Slot).where(Slot.practice_ods == practice, Slot.kind == "clinical")
        return [s.starts_at.isoformat() for s in (await session.exec(query.order_by(col(Slot.starts_at))))]


def _booking(starts_at: str, practice: str = HOME, pcn: str = PCN) -> dict[str, Any]:
    return {
        "pcn_code": pcn,
        "practice_ods": practice,
        "starts_at": starts_at,
        "modality": "telephone",
        "correlation_id": str(uuid.uuid4()),
    }


async def _audit(host: ServiceHost, tokens: Tokens, episode: str) -> list[tuple[str, str, str, str]]:
    async with api(host, tokens.user(IG_LEAD)) as client:
        rows = (await client.get("/audit", params={"episode": episode})).json()
    return sorted((r["operation"], r["action"], r["outcome"], r["agent_user"]) for r in rows)


def _declared(host: ServiceHost) -> dict[tuple[str, str], Action | None]:
    """Each booking route's declared action, read off its dependencies (as `tests/support/routes`)."""

    def action_of(dependant: Dependant) -> Action | None:
        for sub in dependant.dependencies:
            found = getattr(sub.call, "access", None) or (None, action_of(sub))
            if found[1] is not None:
                return found[1]
        return None

    return {
        (method, route.path): action_of(route.dependant)
        for router in host.routers
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }


async def test_every_route_has_its_rule_and_refuses_no_token_and_every_other_role(
    booking: ServiceHost, tokens: Tokens
) -> None:
    assert _declared(booking) == ROUTES
    documented = set(booking.http_app().openapi()["paths"]) - {"/audit", "/health/live", "/health/ready"}
    assert documented == {path for _, path in ROUTES}
    async with api(booking, {}) as client:
        wrong = []
        for (method, path), action in ROUTES.items():
            url = concrete_path(path)
            if (await client.request(method, url)).status_code != 401:
                wrong.append(f"{method} {path} without a token")
            for role in (r for r in Role if not POLICY.allows(r, action)):
                answer = await client.request(method, url, headers=tokens.role(role))
                if answer.status_code != 403 or str(role) not in answer.json()["detail"]:
                    wrong.append(f"{method} {path} as {role}: {answer.status_code}")
    assert not wrong, "\n".join(wrong)


async def test_another_pcns_manager_and_mhp_are_answered_not_found(
    booking: ServiceHost, tokens: Tokens
) -> None:
    [session_id] = await load(booking, entry())
    starts = await _slot_starts(booking, HOME)
    async with api(booking, tokens.user(STAFF)) as staff:
        booked = (await staff.post("/appointments", json=_booking(starts[0]))).json()
    row = entry().model_dump(mode="json")
    manager_asks: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/rota", {"json": {"sessions": [row]}}),
        ("POST", f"/sessions/{session_id}/cancel", {"json": {"reason_code": "rota_error"}}),
        ("PUT", f"/practices/{HOME}/direct-booking-cap", {"json": {"weekly_direct_bookings": 9}}),
        ("GET", "/sessions", {"params": {"pcn": PCN}}),
        ("GET", "/slots", {"params": {"pcn": PCN}}),
        ("GET", "/counts/prescription-slots", {"params": {"pcn": PCN}}),
        ("GET", "/direct-booking-refusals", {"params": {"practice": HOME}}),
    ]
    mhp_asks: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/appointments/{booked['appointment_id']}", {}),
        ("POST", f"/appointments/{booked['appointment_id']}/cancel", {"json": {"cancelled_by": "patient"}}),
        ("POST", "/appointments", {"json": _booking(starts[1])}),
        ("GET", "/waitlist", {"params": {"pcn": PCN}}),
        ("GET", "/attendance-review", {"params": {"pcn": PCN}}),
        ("GET", "/fhir/Slot", {"params": {"practice": HOME, "start": f"ge{TODAY}T00:00:00Z"}}),
        ("GET", f"/fhir/Appointment/{booked['appointment_id']}", {}),
    ]
    answers = []
    for who, asks in ((OTHER_PCN_MANAGER, manager_asks), (OTHER_PCN_MHP, mhp_asks)):
        async with api(booking, tokens.user(who)) as client:
            answers += [(who, m, u, (await client.request(m, u, **kw)).status_code) for m, u, kw in asks]
    assert [a for a in answers if a[-1] != 404] == []
    async with api(booking, tokens.user(MHP)) as mhp, api(booking, tokens.user(OTHER_PCN_MHP)) as other:
        # Another PCN's appointment and one that does not exist get the same answer, byte for byte.
        missing = await mhp.get(f"/appointments/{uuid.uuid4()}")
        theirs = await other.get(f"/appointments/{booked['appointment_id']}")
        assert (missing.status_code, missing.json()) == (theirs.status_code, theirs.json())
        # Their own PCN's rota is theirs to load, and its sessions their MHP's to read.
        south = RotaEntry(**{**row, "pcn_code": SOUTH_PCN, "practice_ods": SOUTH_PRACTICE})
        async with api(booking, tokens.user(OTHER_PCN_MANAGER)) as south_manager:
            loaded = await south_manager.post("/rota", json={"sessions": [south.model_dump(mode="json")]})
        assert loaded.status_code == 201
        assert (await mhp.get("/sessions", params={"pcn": SOUTH_PCN})).status_code == 404
        assert len((await other.get("/sessions", params={"pcn": SOUTH_PCN})).json()) == 1


async def test_a_practice_system_acts_for_its_own_practice_only(booking: ServiceHost, tokens: Tokens) -> None:
    await load(booking, entry(modalities=(Modality.TELEPHONE,)), entry(OTHER, period=SessionPeriod.PM))
    day = f"ge{TODAY}T00:00:00Z"
    patient = {"status": "accepted", "actor": {"display": "patient"}}
    fhir_body = {"resourceType": "Appointment", "status": "booked", "participant": [patient]}
    cancel_body = {**fhir_body, "status": "cancelled"}
    async with api(booking, tokens.system(HOME)) as home, api(booking, tokens.system(OTHER)) as other:
        slots = (await home.get("/fhir/Slot", params={"practice": HOME, "start": day})).json()
        slot = slots["entry"][0]["resource"]["id"]
        # The other practice's system names this practice's slot: not found, nothing booked.
        on_slot = {**fhir_body, "slot": [{"reference": f"Slot/{slot}"}]}
        foreign = await other.post("/fhir/Appointment", json=on_slot)
        assert (foreign.status_code, foreign.json()["issue"][0]["code"]) == (404, "not-found")
        assert (await other.get("/fhir/Slot", params={"practice": HOME, "start": day})).status_code == 404
        booked = await home.post("/fhir/Appointment", json=on_slot)
        assert booked.status_code == 201, booked.text
        appointment = booked.json()["id"]
        refused = [
            await other.get(f"/fhir/Appointment/{appointment}"),
            await other.put(f"/fhir/Appointment/{appointment}", json=cancel_body),
            await other.post(f"/appointments/{appointment}/cancel", json={"cancelled_by": "patient"}),
            await other.get("/slots", params={"pcn": PCN, "practice": HOME}),
        ]
        assert [r.status_code for r in refused] == [404, 404, 404, 404]
        assert (await home.get(f"/fhir/Appointment/{appointment}")).json()["status"] == "booked"
        cancelled = await home.put(f"/fhir/Appointment/{appointment}", json=cancel_body)
        assert cancelled.json()["status"] == "cancelled"
        # Its own slot search is confined to its own practice whatever it leaves out.
        own = (await other.get("/slots", params={"pcn": PCN})).json()
        assert {s["practice_ods"] for s in own} == {OTHER}


async def test_every_look_at_and_change_of_an_appointment_is_in_the_audit(
    booking: ServiceHost, tokens: Tokens
) -> None:
    await load(booking, entry())
    starts = await _slot_starts(booking, HOME)
    body = _booking(starts[0])
    episode = body["correlation_id"]
    async with api(booking, tokens.user(STAFF)) as staff:
        booked = (await staff.post("/appointments", json=body)).json()
        url = f"/appointments/{booked['appointment_id']}"
        assert (await staff.get(url)).status_code == 200
        async with api(booking, tokens.user(LEAD)) as lead:
            assert (await lead.get(f"/fhir/Appointment/{booked['appointment_id']}")).status_code == 200
        async with api(booking, tokens.user(OTHER_PCN_MHP)) as stranger:
            assert (await stranger.get(url)).status_code == 404
        async with api(booking, tokens.user(TRUST_MANAGER)) as trust:
            assert (await trust.get(url)).status_code == 403
        assert (await staff.post(f"{url}/cancel", json={"cancelled_by": "patient"})).status_code == 200
        assert (await staff.post(f"{url}/cancel", json={"cancelled_by": "patient"})).status_code == 409
    assert await _audit(booking, tokens, episode) == sorted(
        [
            ("appointment.book", "C", "0", STAFF),
            ("appointment.read", "R", "0", STAFF),
            ("appointment.read", "R", "0", LEAD),
            ("appointment.read", "R", "4", OTHER_PCN_MHP),
            ("appointment.read", "R", "4", TRUST_MANAGER),
            ("appointment.cancel", "U", "0", STAFF),
            ("appointment.cancel", "U", "4", STAFF),  # refused: it was no longer booked
        ]
    )


async def test_lists_of_patients_are_audited_paged_and_confined_to_a_practices_own(
    booking: ServiceHost, amqp_url: str, tokens: Tokens, clock: dict[str, datetime]
) -> None:
    [session_id] = await load(booking, entry())
    # Too soon for any slot: the case waits. A case of the other practice, booked into HOME's session.
    waiting = triaged(practice=OTHER, respond_by=NOW + timedelta(minutes=30))
    booked = triaged(practice=OTHER)
    for event in (waiting, booked):
        await publish_event(amqp_url, event)

    async def booked_in() -> bool:
        async with booking.db.read() as session:
            query = select(Appointment).where(Appointment.call_id == booked.data.call_id)
            return (await session.exec(query)).first() is not None

    await eventually(booked_in, message="case not booked")
    async with api(booking, tokens.user(MHP)) as mhp:

        async def listed() -> bool:
            return len((await mhp.get("/waitlist", params={"pcn": PCN})).json()) == 1

        await eventually(listed, message="case not waitlisted")
        clock["now"] = NOW + timedelta(days=1)
        review = (await mhp.get("/attendance-review")).json()  # the MHP's own PCN by default
        assert [a["correlation_id"] for a in review] == [str(booked.correlation_id)]
    async with api(booking, tokens.user(STAFF)) as staff, api(booking, tokens.user(LEAD)) as lead:
        # HOME's staff and lead see neither case (both are OTHER's patients), and may not ask for OTHER's.
        assert (await staff.get("/waitlist", params={"pcn": PCN})).json() == []
        assert (await lead.get("/attendance-review", params={"pcn": PCN})).json() == []
        assert (await staff.get("/waitlist", params={"pcn": PCN, "practice": OTHER})).status_code == 404
    assert ("waitlist.list", "E", "0", MHP) in await _audit(booking, tokens, str(waiting.correlation_id))
    reviewed = await _audit(booking, tokens, str(booked.correlation_id))
    assert ("attendance_review.list", "E", "0", MHP) in reviewed
    async with api(booking, tokens.user(PCN_MANAGER)) as manager:
        today = {"pcn": PCN, "from": f"{TODAY}T00:00:00Z"}
        first = await manager.get("/slots", params={**today, "limit": 4})
        rest = await manager.get("/slots", params={**today, "cursor": first.headers["x-next-cursor"]})
        assert len(first.json()) == 4
        assert 'rel="next"' in first.headers["link"]
        assert len({s["slot_id"] for s in first.json() + rest.json()}) == 5  # six, one of them booked
        cancelled = await manager.post(f"/sessions/{session_id}/cancel", json={"reason_code": "rota_error"})
        assert cancelled.status_code == 200, cancelled.text
    # The session's cancellation changed the booked patient's appointment: the manager is on record.
    changed = await _audit(booking, tokens, str(booked.correlation_id))
    assert ("session.cancel", "U", "0", PCN_MANAGER) in changed


async def test_a_fhir_slot_search_is_a_searchset_in_pages_with_a_next_link(
    booking: ServiceHost, tokens: Tokens
) -> None:
    await load(booking, entry())
    params: dict[str, str | int] = {"practice": HOME, "start": f"ge{TODAY}T00:00:00Z", "_count": 4}
    async with api(booking, tokens.system(HOME)) as client:
        first = (await client.get("/fhir/Slot", params=params)).json()
        assert (first["total"], len(first["entry"])) == (6, 4)
        [following] = [link["url"] for link in first["link"] if link["relation"] == "next"]
        second = (await client.get(following.removeprefix("http://booking"))).json()
    assert len(second["entry"]) == 2
    assert not [link for link in second["link"] if link["relation"] == "next"]
    ids = {e["resource"]["id"] for e in first["entry"] + second["entry"]}
    assert len(ids) == 6
