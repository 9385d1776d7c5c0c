"""ReceiveCall: a practice's call onto the worklist with its callback deadline."""

from __future__ import annotations

from services.triage.application.commands import ReceiveCall
from services.triage.application.context import TriageContext
from services.triage.application.unit_of_work import TriageUnitOfWork
from services.triage.domain.call import Call


async def receive_call(cmd: ReceiveCall, uow: TriageUnitOfWork, ctx: TriageContext) -> Call:
    """Store a valid call; the same call re-sent is one worklist entry (ImplausibleIdentity, CallIdReused)."""
    call = Call.receive(
        call_id=cmd.call_id,
        correlation_id=cmd.correlation_id,
        received_event_id=cmd.event_id,
        pcn_code=cmd.pcn_code,
        practice_ods=cmd.practice_ods,
        channel=cmd.channel,
        caller_urgency=cmd.caller_urgency,
        reason=cmd.reason,
        nhs_number=cmd.nhs_number,
        date_of_birth=cmd.date_of_birth,
        received_at=cmd.occurred_at,
        callbacks=ctx.callbacks,
    )
    existing = await uow.calls.get(cmd.call_id)
    if existing is not None:
        existing.check_resent(call.nhs_number, call.date_of_birth)
        return existing  # re-sent under a new event id: one call, one worklist entry
    await uow.calls.add(call)
    return call
