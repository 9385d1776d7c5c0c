"""On the real broker: a case waitlisted past its deadline and an escalation nobody acknowledged in time
(climbed a rung) reach the trust view and the dashboard as a breach and an overdue escalation."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from shared.contracts.codes import Disposition, EscalationReason, EscalationTarget, TriageCode
from shared.contracts.envelope import Envelope
from shared.contracts.v1 import (
    AppointmentWaitlisted,
    AppointmentWaitlistedData,
    CallTriaged,
    CallTriagedData,
    CaseEscalated,
    CaseEscalatedData,
    EscalationAcknowledged,
    EscalationAcknowledgedData,
)
from tests.metrics import journeys as gen
from tests.metrics.conftest import Served, publish_and_wait
from tests.support.identity import TRUST_MANAGER, Tokens

pytestmark = pytest.mark.integration

PCN, PRACTICE = "U00123", "Y01234"
NOW = gen.AS_OF  # the served service's clock
HOUR = timedelta(hours=1)


def _org(producer: str) -> dict[str, Any]:
    return {"producer": producer, "pcn_code": PCN, "practice_ods": PRACTICE, "correlation_id": uuid.uuid4()}


def _escalated(escalation_id: uuid.UUID, hours_ago: float, **data: Any) -> CaseEscalated:
    return CaseEscalated.create(
        CaseEscalatedData(escalation_id=escalation_id, **data),
        occurred_at=NOW - hours_ago * HOUR,
        **_org("RMH/referrals"),
    )


def _events() -> list[Envelope[Any]]:
    call_id, laddered, acknowledged = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    respond_by = NOW - 2 * HOUR  # a C case whose 24 hours ran out two hours ago, still waitlisted
    lead, trust = EscalationTarget.PRACTICE_CLINICAL_LEAD, EscalationTarget.TRUST_DUTY_MANAGER
    return [
        CallTriaged.create(
            CallTriagedData(
                call_id=call_id,
                triage_code=TriageCode.C,
                disposition=Disposition.URGENT_APPOINTMENT,
                respond_by=respond_by,
                appointment_minutes=30,
                decision_sequence=1,
                clinician="mhp-001",
            ),
            occurred_at=respond_by - 24 * HOUR,
            **_org("RMH/triage"),
        ),
        AppointmentWaitlisted.create(
            AppointmentWaitlistedData(call_id=call_id, respond_by=respond_by, minutes=30),
            occurred_at=respond_by - 23 * HOUR,
            **_org(f"{PCN}/booking"),
        ),
        # Raised to the clinical lead, unacknowledged, re-escalated to the trust: still unacknowledged.
        _escalated(
            laddered,
            4,
            target=lead,
            reason=EscalationReason.APPOINTMENT_DEADLINE_AT_RISK,
            call_id=call_id,
            acknowledge_by=NOW - 3 * HOUR,
        ),
        _escalated(
            laddered,
            3,
            target=trust,
            reason=EscalationReason.UNACKNOWLEDGED,
            call_id=call_id,
            rung=1,
            acknowledge_by=NOW - HOUR,
        ),
        # Another, acknowledged 90 minutes after it was raised.
        _escalated(acknowledged, 4, target=lead, reason=EscalationReason.RISK, acknowledge_by=NOW - 2 * HOUR),
        EscalationAcknowledged.create(
            EscalationAcknowledgedData(
                escalation_id=acknowledged, acknowledged_by="lead-0042", target=lead, rung=0
            ),
            occurred_at=NOW - 2.5 * HOUR,
            **_org("RMH/referrals"),
        ),
    ]


async def test_the_trust_view_shows_a_waiting_breached_case_and_an_open_overdue_escalation(
    served_metrics: Served, amqp_url: str, tokens: Tokens
) -> None:
    await publish_and_wait(amqp_url, served_metrics.host, _events())

    headers = tokens.user(TRUST_MANAGER)
    async with httpx.AsyncClient(base_url=served_metrics.base_url, timeout=30, headers=headers) as client:
        view = (await client.get("/reports/trust")).json()
        trust_page = (await client.get("/")).text
        pcn_page = (await client.get(f"/dashboard/pcn/{PCN}")).text

    row = view["pcns"][PCN]
    assert view["month"] == "2026-11"
    assert (row["deadlines_met"], row["deadlines_breached"], row["deadline_met_rate"]) == (0, 1, 0.0)
    assert row["waiting"]["waiting"] == row["waiting"]["past_deadline"] == row["waiting"]["waitlisted"] == 1
    assert row["waiting"]["oldest_wait_minutes"] == 26 * 60.0  # since its triage (no call.received seen)
    assert row["open_escalations"] == {
        "open": 2,
        "unacknowledged": 1,
        "overdue": 1,
        "climbed": 1,
        "highest_rung": 1,
    }
    assert row["escalations"] == 2  # the laddered escalation once
    assert row["median_minutes_to_acknowledge"] == 90.0
    assert "1 past deadline" in trust_page
    assert "1 overdue" in trust_page
    assert "1 d 2 h" in trust_page  # the oldest wait
    assert 'id="waiting-table"' in pcn_page
    assert "past their deadline (breached)" in pcn_page
