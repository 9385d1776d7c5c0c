"""ReceiveCall: a call onto the worklist with its callback deadline; red flags out of hours escalate."""

from __future__ import annotations

from services.triage.application import publishing
from services.triage.application.commands import ReceiveCall
from services.triage.application.context import TriageContext
from services.triage.application.unit_of_work import TriageUnitOfWork
from services.triage.domain.call import Call


async def receive_call(cmd: ReceiveCall, uow: TriageUnitOfWork, ctx: TriageContext) -> Call:
    """Store a valid call; the same call re-sent is one worklist entry (ImplausibleIdentity, CallIdReused).

    A red-flag call arriving out of working hours is escalated at once to the out-of-hours route."""
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
        red_flags=ctx.red_flags,
    )
    existing = await uow.calls.get(cmd.call_id)
    if existing is not None:
        existing.check_resent(call.nhs_number, call.date_of_birth)
        return existing  # re-sent under a new event id: one call, one worklist entry, one escalation
    now = ctx.clock()
    if call.needs_out_of_hours_escalation(ctx.out_of_hours, now):
        # Nobody works the list until the morning: the out-of-hours route is told now, in the transaction
        # that stores the call (both or neither; the call's primary key makes it once per call).
        escalated = publishing.out_of_hours_escalated(
            call, ctx.out_of_hours.route, now, producer=ctx.producer
        )
        call.mark_out_of_hours_escalated(ctx.out_of_hours, now, escalated.event_id)
        uow.add_event(escalated)
    await uow.calls.add(call)
    return call
