"""Triage's one subscription table: each `on_<event>` translates an event into a command."""

from __future__ import annotations

from services.triage.adapters.unit_of_work import SqlTriageUnitOfWork
from services.triage.application.commands import ReceiveCall
from services.triage.application.context import TriageContext
from services.triage.application.handlers import receive_call
from shared.contracts.v1 import CallReceived
from shared.messaging.consumer import Subscription, in_unit_of_work


def receive_call_command(event: CallReceived) -> ReceiveCall:
    data = event.data
    return ReceiveCall(
        call_id=data.call_id,
        event_id=event.event_id,
        correlation_id=event.correlation_id,
        pcn_code=event.pcn_code,
        practice_ods=event.practice_ods,
        channel=data.channel,
        caller_urgency=data.caller_urgency,
        reason=data.reason,
        nhs_number=data.patient.nhs_number,
        date_of_birth=data.patient.date_of_birth,
        occurred_at=event.occurred_at,
    )


async def on_call_received(event: CallReceived, uow: SqlTriageUnitOfWork, ctx: TriageContext) -> None:
    await receive_call(receive_call_command(event), uow, ctx)


def subscriptions(ctx: TriageContext) -> list[Subscription]:
    return [
        Subscription(
            "on_call_received", (CallReceived,), in_unit_of_work(SqlTriageUnitOfWork, ctx, on_call_received)
        ),
    ]
