"""Escalations as owned work on a real broker and database, with the fake clock: an escalation another service
raised climbs the ladder rung by rung to the trust's duty manager while nobody acknowledges it, re-deliveries
and this service's own climbs change nothing, and the owner acknowledges and resolves it through the API.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from services.referrals.adapters.escalation_tables import Escalation, EscalationHistory
from services.referrals.bootstrap import ReferralsHost
from shared.contracts.codes import EscalationReason, EscalationTarget
from shared.contracts.routing import binding_key
from shared.contracts.v1 import CaseEscalated, CaseEscalatedData
from tests.referrals.conftest import LEAD, api, envelope, events_of, wait_events, watchdog_passes
from tests.support.amqp import EventCapture, eventually, publish_event, queue_depth
from tests.support.clock import MONDAY_10AM, FakeClock
from tests.support.identity import OTHER_LEAD, TRUST_MANAGER, Tokens

pytestmark = pytest.mark.integration

DUTY_GP = "dutygp.y01234"
"""Practice Y01234's duty GP contact in the example directory."""
MONDAY_CLOSE = datetime(2026, 11, 16, 18, 30, tzinfo=UTC)  # GMT: London's close is 18:30 UTC
BINDINGS = (
    binding_key("case.escalated"),
    binding_key("escalation.acknowledged"),
    binding_key("escalation.resolved"),
)


def triage_breach(**data: Any) -> CaseEscalated:
    """Triage's escalation of an untriaged call to the practice's clinical lead, naming nobody."""
    fields: dict[str, Any] = {
        "escalation_id": uuid.uuid4(),
        "target": EscalationTarget.PRACTICE_CLINICAL_LEAD,
        "reason": EscalationReason.TRIAGE_DEADLINE_BREACH,
        "call_id": uuid.uuid4(),
        "due_at": MONDAY_10AM,
    } | data
    return CaseEscalated.create(CaseEscalatedData(**fields), producer="RMH/triage", **envelope())


async def _held(host: ReferralsHost, escalation_id: uuid.UUID) -> Escalation:
    async def present() -> bool:
        async with host.db.read() as session:
            return await session.get(Escalation, escalation_id) is not None

    await eventually(present, message="escalation not held")
    async with host.db.read() as session:
        found = await session.get(Escalation, escalation_id)
    assert found is not None
    return found


async def _history(host: ReferralsHost, escalation_id: uuid.UUID) -> list[str]:
    async with host.db.read() as session:
        query = select(EscalationHistory).where(EscalationHistory.escalation_id == escalation_id)
        return [h.step for h in sorted((await session.exec(query)).all(), key=lambda h: h.seq)]


def _climbs(capture: EventCapture, escalation_id: uuid.UUID) -> list[dict[str, Any]]:
    """This service's case.escalated for the escalation (not the producer's that raised it)."""
    found = events_of(capture, "case.escalated", escalation_id=escalation_id)
    return [e for e in found if e["producer"] == "RMH/referrals"]


async def _at_rung(
    capture: EventCapture, escalation_id: uuid.UUID, rung: int, count: int = 1
) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]]:
        return [e for e in _climbs(capture, escalation_id) if e["data"]["rung"] == rung]

    await eventually(lambda: len(found()) >= count, message=lambda: f"{len(found())} climbs to rung {rung}")
    return found()


async def _drained(url: str) -> None:
    async def empty() -> bool:
        return await queue_depth(url, "referrals.on_case_escalated") == 0

    await eventually(empty)


async def test_unacknowledged_escalation_climbs_to_the_trust_then_is_acknowledged_and_resolved(
    referrals: ReferralsHost, amqp_url: str, clock: FakeClock, tokens: Tokens
) -> None:
    raised = triage_breach()
    escalation_id = raised.data.escalation_id
    async with EventCapture(amqp_url, *BINDINGS) as capture:
        await publish_event(amqp_url, raised)
        held = await _held(referrals, escalation_id)
        assert (held.owner, held.state, held.rung) == (LEAD, "open", 0)
        assert held.acknowledge_by == MONDAY_CLOSE  # a clinical lead: by the close of the working day

        clock.now = MONDAY_CLOSE  # exactly due: still in time
        await watchdog_passes(referrals)
        assert _climbs(capture, escalation_id) == []

        clock.now = MONDAY_CLOSE + timedelta(seconds=1)
        [to_gp] = await _at_rung(capture, escalation_id, 1)
        assert to_gp["data"]["target"] == "duty_gp"
        assert to_gp["data"]["assigned_to"] == DUTY_GP
        assert to_gp["data"]["reason"] == "triage_deadline_breach"  # the clinical reason travels on
        assert to_gp["data"]["call_id"] == str(raised.data.call_id)
        assert to_gp["correlation_id"] == str(raised.correlation_id)
        assert to_gp["causation_id"] == str(raised.event_id)
        gp_deadline = datetime.fromisoformat(to_gp["data"]["acknowledge_by"])
        assert gp_deadline == clock.now + timedelta(hours=1)

        clock.now = gp_deadline + timedelta(seconds=1)
        [to_trust] = await _at_rung(capture, escalation_id, 2)
        assert (to_trust["data"]["target"], to_trust["data"]["assigned_to"]) == (
            "trust_duty_manager",
            TRUST_MANAGER,
        )
        trust_deadline = datetime.fromisoformat(to_trust["data"]["acknowledge_by"])

        # The first event again, and re-sent under a new id: changes nothing (nor do our own climbs, back
        # from the bus at the rung already held).
        await publish_event(amqp_url, raised)
        await publish_event(amqp_url, raised.model_copy(update={"event_id": uuid.uuid4()}))
        await _drained(amqp_url)
        held = await _held(referrals, escalation_id)
        assert (held.rung, held.target, held.owner) == (2, "trust_duty_manager", TRUST_MANAGER)
        assert await _history(referrals, escalation_id) == ["raised", "climbed", "climbed"]

        # The last rung: the trust is re-alerted at each deadline, the rung capped.
        clock.now = trust_deadline + timedelta(seconds=1)
        await _at_rung(capture, escalation_id, 2, count=2)

        async with api(referrals) as http:
            refused = await http.post(f"/escalations/{escalation_id}/acknowledge", headers=tokens.user(LEAD))
            assert refused.status_code == 403, refused.text  # the lead sees it but no longer owns it
            hidden = await http.get(f"/escalations/{escalation_id}", headers=tokens.user(OTHER_LEAD))
            assert hidden.status_code == 404  # another practice's lead: as if it did not exist
            inbox = await http.get(
                "/escalations", params={"state": "open"}, headers=tokens.user(TRUST_MANAGER)
            )
            assert [e["escalation_id"] for e in inbox.json()] == [str(escalation_id)]
            acknowledged = await http.post(
                f"/escalations/{escalation_id}/acknowledge", headers=tokens.user(TRUST_MANAGER)
            )
            assert acknowledged.status_code == 200, acknowledged.text
            assert acknowledged.json()["state"] == "acknowledged"
            [ack] = await wait_events(capture, "escalation.acknowledged", 1, escalation_id=escalation_id)
            assert ack["data"] == {
                "escalation_id": str(escalation_id),
                "acknowledged_by": TRUST_MANAGER,
                "target": "trust_duty_manager",
                "rung": 2,
            }
            resolved = await http.post(
                f"/escalations/{escalation_id}/resolve",
                json={"outcome": "patient_contacted", "note": "called back, booked with the duty GP"},
                headers=tokens.user(TRUST_MANAGER),
            )
            assert resolved.status_code == 200, resolved.text
            [done] = await wait_events(capture, "escalation.resolved", 1, escalation_id=escalation_id)
            assert (done["data"]["outcome"], done["data"]["resolved_by"]) == (
                "patient_contacted",
                TRUST_MANAGER,
            )
            assert done["causation_id"] == ack["causation_id"]
            detail = (
                await http.get(f"/escalations/{escalation_id}", headers=tokens.user(TRUST_MANAGER))
            ).json()
            audit = await http.get(
                "/audit",
                params={"episode": str(raised.correlation_id), "limit": "200"},
                headers=tokens.user("ig.lead"),
            )

        # Acknowledged and closed: the ladder stops.
        clock.advance(timedelta(days=2))
        await watchdog_passes(referrals)
        await referrals.relay.run_once()
        assert len(_climbs(capture, escalation_id)) == 3
    assert [h["step"] for h in detail["history"]] == [
        "raised",
        "climbed",
        "climbed",
        "realerted",
        "acknowledged",
        "resolved",
    ]
    seen = {(r["agent_user"], r["operation"], r["outcome"]) for r in audit.json()}
    assert {
        (LEAD, "escalation.acknowledge", "4"),
        (OTHER_LEAD, "escalation.read", "4"),
        (TRUST_MANAGER, "escalation.list", "0"),
        (TRUST_MANAGER, "escalation.acknowledge", "0"),
        (TRUST_MANAGER, "escalation.resolve", "0"),
    } <= seen


async def test_the_owner_hands_over_to_a_named_person_and_a_note_naming_a_patient_is_refused(
    referrals: ReferralsHost, amqp_url: str, tokens: Tokens
) -> None:
    raised = triage_breach()
    escalation_id = raised.data.escalation_id
    await publish_event(amqp_url, raised)
    await _held(referrals, escalation_id)
    url = f"/escalations/{escalation_id}"
    async with api(referrals, tokens.user(LEAD)) as http:
        [mine] = (await http.get("/escalations")).json()
        assert (mine["escalation_id"], mine["owner"], mine["state"]) == (str(escalation_id), LEAD, "open")
        stranger = await http.post(f"{url}/hand-over", json={"to": "someone.else"})
        assert stranger.status_code == 422, stranger.text
        with_nhs_number = await http.post(
            f"{url}/resolve", json={"outcome": "patient_contacted", "note": "NHS 9434765919"}
        )
        assert with_nhs_number.status_code == 422
        assert "9434765919" not in with_nhs_number.text
        handed = await http.post(
            f"{url}/hand-over", json={"to": DUTY_GP}, headers={"Idempotency-Key": "hand-1"}
        )
        assert handed.status_code == 200, handed.text
        replayed = await http.post(
            f"{url}/hand-over", json={"to": DUTY_GP}, headers={"Idempotency-Key": "hand-1"}
        )
        assert replayed.headers.get("Idempotent-Replayed") == "true"
        assert (await http.get("/escalations")).json() == []  # no longer in the lead's inbox
    held = await _held(referrals, escalation_id)
    assert (held.owner, held.state) == (DUTY_GP, "open")
    assert await _history(referrals, escalation_id) == ["raised", "handed_over"]
