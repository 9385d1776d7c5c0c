"""Red-flag calls arriving out of working hours are escalated at intake to the out-of-hours route, once."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.triage.application.context import TriageContext
from services.triage.application.handlers import receive_call
from services.triage.domain.out_of_hours import OutOfHoursPolicy
from services.triage.entrypoints.amqp import receive_call_command
from services.triage.settings import TriageSettings
from shared.contracts.codes import EscalationReason, EscalationTarget
from shared.contracts.v1 import CallReceived, CaseEscalated
from shared.errors import RuleViolation
from tests.support.clock import MONDAY_10AM, FakeClock
from tests.support.factories import call_received
from tests.triage.unit.fakes import FakeTriageUnitOfWork
from tests.triage.unit.test_call import new_call

FRIDAY_7PM = datetime(2026, 11, 20, 19, tzinfo=UTC)  # London is on GMT in November
BOXING_DAY_SUBSTITUTE_10AM = datetime(2026, 12, 28, 10, tzinfo=UTC)  # a Monday bank holiday
RED_FLAG = "wants to end it all"


async def take_in(uow: FakeTriageUnitOfWork, ctx: TriageContext, event: CallReceived) -> list[CaseEscalated]:
    await receive_call(receive_call_command(event), uow, ctx)
    return [e for e in uow.events if isinstance(e, CaseEscalated)]


@pytest.fixture
def calendar_ctx(ctx: TriageContext) -> TriageContext:
    """The unit context with the settings' working hours: England and Wales bank holidays closed."""
    return replace(ctx, out_of_hours=TriageSettings().out_of_hours_policy())


async def test_a_red_flag_call_on_friday_evening_is_escalated_at_once_to_the_crisis_team(
    uow: FakeTriageUnitOfWork, calendar_ctx: TriageContext, clock: FakeClock
) -> None:
    clock.now = FRIDAY_7PM
    event = call_received(reason=RED_FLAG, occurred_at=FRIDAY_7PM)
    [escalated] = await take_in(uow, calendar_ctx, event)
    assert escalated.data.target is EscalationTarget.CRISIS_TEAM
    assert escalated.data.reason is EscalationReason.RED_FLAG_OUT_OF_HOURS
    assert (escalated.data.call_id, escalated.data.due_at, escalated.occurred_at) == (
        event.data.call_id,
        FRIDAY_7PM,
        FRIDAY_7PM,
    )
    assert (escalated.correlation_id, escalated.causation_id) == (event.correlation_id, event.event_id)
    # Ids and times only: the patient's identity and words stay in triage.
    wire = escalated.model_dump_json()
    assert event.data.patient.nhs_number not in wire
    assert RED_FLAG not in wire
    call = uow.calls.rows[event.data.call_id]
    assert call.out_of_hours_escalated_at == FRIDAY_7PM
    assert call.out_of_hours_escalated_to is EscalationTarget.CRISIS_TEAM
    assert call.out_of_hours_escalation_event_id == escalated.event_id


async def test_the_out_of_hours_route_can_be_the_duty_gp(
    uow: FakeTriageUnitOfWork, ctx: TriageContext, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIAGE_OUT_OF_HOURS_ROUTE", "duty_gp")
    ctx = replace(ctx, out_of_hours=TriageSettings().out_of_hours_policy())
    clock.now = FRIDAY_7PM
    [escalated] = await take_in(uow, ctx, call_received(reason=RED_FLAG, occurred_at=FRIDAY_7PM))
    assert escalated.data.target is EscalationTarget.DUTY_GP


def test_an_out_of_hours_route_other_than_the_crisis_team_or_duty_gp_is_refused() -> None:
    assert TriageSettings().out_of_hours_route is EscalationTarget.CRISIS_TEAM
    with pytest.raises(ValidationError, match="out-of-hours route is one of"):
        TriageSettings(out_of_hours_route=EscalationTarget.PRACTICE_CLINICAL_LEAD)


@pytest.mark.parametrize(
    "arrives",
    [
        datetime(2026, 11, 21, 11, tzinfo=UTC),  # Saturday
        datetime(2026, 11, 17, 7, 59, tzinfo=UTC),  # Tuesday before opening
        BOXING_DAY_SUBSTITUTE_10AM,
    ],
)
async def test_weekends_nights_and_bank_holidays_are_out_of_hours(
    uow: FakeTriageUnitOfWork, calendar_ctx: TriageContext, clock: FakeClock, arrives: datetime
) -> None:
    clock.now = arrives
    assert len(await take_in(uow, calendar_ctx, call_received(reason=RED_FLAG, occurred_at=arrives))) == 1


async def test_in_hours_a_red_flag_call_waits_for_the_mhp_and_is_not_escalated(
    uow: FakeTriageUnitOfWork, calendar_ctx: TriageContext, clock: FakeClock
) -> None:
    clock.now = MONDAY_10AM
    event = call_received(reason=RED_FLAG, occurred_at=MONDAY_10AM)
    assert await take_in(uow, calendar_ctx, event) == []
    assert uow.calls.rows[event.data.call_id].out_of_hours_escalated_at is None
    assert uow.calls.rows[event.data.call_id].red_flags


async def test_a_call_without_red_flags_out_of_hours_is_not_escalated(
    uow: FakeTriageUnitOfWork, calendar_ctx: TriageContext, clock: FakeClock
) -> None:
    clock.now = FRIDAY_7PM
    assert await take_in(uow, calendar_ctx, call_received(occurred_at=FRIDAY_7PM)) == []


async def test_a_call_sent_in_hours_that_reaches_triage_after_closing_is_escalated(
    uow: FakeTriageUnitOfWork, calendar_ctx: TriageContext, clock: FakeClock
) -> None:
    sent = datetime(2026, 11, 20, 18, 25, tzinfo=UTC)
    clock.now = sent + timedelta(minutes=15)  # a backlog: nobody will see it before Monday
    assert len(await take_in(uow, calendar_ctx, call_received(reason=RED_FLAG, occurred_at=sent))) == 1


async def test_the_same_call_resent_out_of_hours_is_escalated_once(
    uow: FakeTriageUnitOfWork, calendar_ctx: TriageContext, clock: FakeClock
) -> None:
    clock.now = FRIDAY_7PM
    event = call_received(reason=RED_FLAG, occurred_at=FRIDAY_7PM)
    await take_in(uow, calendar_ctx, event)
    clock.advance(timedelta(minutes=5))
    again = await take_in(uow, calendar_ctx, event.model_copy(update={"event_id": uuid.uuid4()}))
    assert len(again) == 1  # still only the first one staged


def test_either_the_sending_or_the_arriving_instant_outside_working_hours_counts() -> None:
    policy = OutOfHoursPolicy()
    assert policy.out_of_hours(FRIDAY_7PM, FRIDAY_7PM)
    assert policy.out_of_hours(MONDAY_10AM, FRIDAY_7PM)
    assert policy.out_of_hours(FRIDAY_7PM, MONDAY_10AM)
    assert not policy.out_of_hours(MONDAY_10AM, MONDAY_10AM)


def test_a_call_is_marked_escalated_out_of_hours_only_once() -> None:
    policy = OutOfHoursPolicy()
    call = new_call(reason=RED_FLAG, received_at=FRIDAY_7PM)
    call.mark_out_of_hours_escalated(policy, FRIDAY_7PM, uuid.uuid4())
    assert not call.needs_out_of_hours_escalation(policy, FRIDAY_7PM)
    with pytest.raises(RuleViolation, match="escalated at once, once"):
        call.mark_out_of_hours_escalated(policy, FRIDAY_7PM, uuid.uuid4())
