"""Escalations as owned work: a ladder is one escalation; open, overdue and time to acknowledge."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.metrics.application.handlers.archive import archived
from services.metrics.domain.escalation_figures import acknowledgement, is_overdue, open_escalations
from services.metrics.domain.events import ArchivedEvent
from services.metrics.domain.facts import EscalationFact, Facts
from services.metrics.domain.figures import figures
from services.metrics.domain.folding import apply
from services.metrics.domain.kinds import EventType
from services.metrics.domain.trust_view import trust_view
from shared.contracts.codes import EscalationOutcome, EscalationTarget
from shared.contracts.v1 import (
    EscalationAcknowledged,
    EscalationAcknowledgedData,
    EscalationResolved,
    EscalationResolvedData,
)
from tests.metrics.unit.builders import PCN, PRACTICE, archived_event, iso

T = datetime(2026, 10, 5, 9, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


def _ladder(escalation_id: str) -> list[ArchivedEvent]:
    """Raised to the clinical lead, unacknowledged for an hour, re-escalated to the trust, acknowledged."""
    raised = {
        "escalation_id": escalation_id,
        "reason": "appointment_deadline_at_risk",
        "target": "practice_clinical_lead",
        "due_at": iso(T + 24 * 60 * MINUTE),
        "rung": 0,
        "acknowledge_by": iso(T + 60 * MINUTE),
    }
    climbed = raised | {
        "reason": "escalation_unacknowledged",
        "target": "trust_duty_manager",
        "rung": 1,
        "acknowledge_by": iso(T + 90 * MINUTE),
    }
    return [
        archived_event(EventType.CASE_ESCALATED, raised, T),
        archived_event(EventType.CASE_ESCALATED, climbed, T + 61 * MINUTE),
        archived_event(
            EventType.ESCALATION_ACKNOWLEDGED,
            {"escalation_id": escalation_id, "target": "trust_duty_manager", "rung": 1},
            T + 70 * MINUTE,
        ),
    ]


def _fold(events: list[ArchivedEvent]) -> EscalationFact:
    fact: Any = None
    for event in events:
        fact = apply(fact, event)
    assert isinstance(fact, EscalationFact)
    return fact


def test_a_laddered_escalation_is_one_escalation_raised_once_and_owned_by_its_top_rung() -> None:
    key = str(uuid.uuid4())
    facts = {repr(_fold(list(order))) for order in itertools.permutations(_ladder(key))}
    assert len(facts) == 1, "the same fact whatever order the events arrive in"
    fact = _fold(_ladder(key))
    assert (fact.occurred_at, fact.reason) == (T, "appointment_deadline_at_risk")
    assert (fact.rung, fact.target, fact.acknowledge_by) == (1, "trust_duty_manager", T + 90 * MINUTE)
    assert fact.acknowledged_at == T + 70 * MINUTE
    assert fact.due_at == T + 24 * 60 * MINUTE
    # Counted once in the month's escalations, under the reason it was raised for.
    escalations = figures(Facts(escalations=[fact]), "2026-10", T)["escalations"]
    assert sum(escalations.values()) == 1
    assert escalations["appointment_deadline_at_risk"] == 1


def test_a_resolution_closes_the_escalation_with_its_outcome() -> None:
    key = str(uuid.uuid4())
    resolved = archived_event(
        EventType.ESCALATION_RESOLVED,
        {"escalation_id": key, "outcome": "patient_contacted"},
        T + 3 * 60 * MINUTE,
    )
    fact = _fold([resolved, *_ladder(key)])
    assert (fact.resolved_at, fact.outcome) == (T + 3 * 60 * MINUTE, "patient_contacted")
    assert open_escalations([fact], T + 4 * 60 * MINUTE)["open"] == 0


def _escalation(**kw: Any) -> EscalationFact:
    kw.setdefault("occurred_at", T)
    kw.setdefault("reason", "risk")
    kw.setdefault("target", "crisis_team")
    return EscalationFact(uuid.uuid4(), PCN, PRACTICE, **kw)


def test_an_unacknowledged_escalation_is_overdue_one_second_after_its_acknowledgement_deadline() -> None:
    due = T + 15 * MINUTE
    waiting = _escalation(acknowledge_by=due)
    assert not is_overdue(waiting, due)
    assert is_overdue(waiting, due + SECOND)
    assert not is_overdue(_escalation(acknowledge_by=due, acknowledged_at=due - MINUTE), due + SECOND)
    assert not is_overdue(_escalation(acknowledge_by=due, resolved_at=due - MINUTE), due + SECOND)
    assert not is_overdue(_escalation(), due + SECOND)  # no acknowledgement deadline given


def test_open_escalations_count_the_unacknowledged_the_overdue_and_the_climbed() -> None:
    as_of = T + 60 * MINUTE
    escalations = [
        _escalation(acknowledge_by=T + 15 * MINUTE),  # overdue
        _escalation(acknowledge_by=T + 15 * MINUTE, rung=2, target="trust_duty_manager"),  # overdue, climbed
        _escalation(acknowledge_by=as_of + MINUTE),  # not yet due
        _escalation(acknowledge_by=T, acknowledged_at=T + 20 * MINUTE),  # late, but acknowledged
        _escalation(acknowledged_at=T, resolved_at=T + 30 * MINUTE),  # closed
    ]
    assert open_escalations(escalations, as_of) == {
        "open": 4,
        "unacknowledged": 3,
        "overdue": 2,
        "climbed": 1,
        "highest_rung": 2,
    }


def test_median_time_to_acknowledge_is_over_the_months_acknowledged_escalations() -> None:
    escalations = [
        _escalation(acknowledged_at=T + 10 * MINUTE),
        _escalation(acknowledged_at=T + 30 * MINUTE, resolved_at=T + 40 * MINUTE),
        _escalation(acknowledged_at=T + 50 * MINUTE),
        _escalation(),  # not acknowledged: counted beside the median, not in it
        _escalation(occurred_at=T - 30 * 24 * 60 * MINUTE, acknowledged_at=T),  # raised in September
    ]
    assert acknowledgement(escalations, "2026-10") == {
        "raised": 4,
        "acknowledged": 3,
        "unacknowledged": 1,
        "resolved": 1,
        "median_minutes_to_acknowledge": 30.0,
    }


def test_the_trust_view_shows_each_pcns_open_and_overdue_escalations_and_time_to_acknowledge() -> None:
    key = str(uuid.uuid4())
    laddered = _fold(_ladder(key)[:2])  # climbed, still unacknowledged
    acknowledged = _escalation(acknowledged_at=T + 4 * MINUTE)
    view = trust_view({PCN: Facts(escalations=[laddered, acknowledged])}, "2026-10", T + 2 * 60 * MINUTE)
    row = view["pcns"][PCN]
    assert row["open_escalations"]["open"] == 2
    assert row["open_escalations"]["overdue"] == 1
    assert row["open_escalations"]["climbed"] == 1
    assert row["escalations"] == 2
    assert row["median_minutes_to_acknowledge"] == 4.0
    assert row["acknowledgement"]["unacknowledged"] == 1


def test_the_archive_keeps_no_staff_id_or_note_of_an_acknowledgement_or_resolution() -> None:
    org: dict[str, Any] = {
        "producer": "RMH/referrals",
        "pcn_code": PCN,
        "practice_ods": PRACTICE,
        "correlation_id": uuid.uuid4(),
    }
    key = uuid.uuid4()
    ack = EscalationAcknowledged.create(
        EscalationAcknowledgedData(
            escalation_id=key, acknowledged_by="lead-0042", target=EscalationTarget.DUTY_GP, rung=1
        ),
        **org,
    )
    resolved = EscalationResolved.create(
        EscalationResolvedData(
            escalation_id=key,
            resolved_by="lead-0042",
            outcome=EscalationOutcome.PATIENT_CONTACTED,
            note="rang back, safety-netted",
        ),
        **org,
    )
    assert archived(ack).data == {"escalation_id": str(key), "target": "duty_gp", "rung": 1}
    assert archived(resolved).data == {"escalation_id": str(key), "outcome": "patient_contacted"}
