"""EscalateOverdueCalls: the duty GP is told, once per call, of calls untriaged past their deadline."""

from __future__ import annotations

from services.triage.application import publishing
from services.triage.application.commands import EscalateOverdueCalls
from services.triage.application.context import TriageContext
from services.triage.application.unit_of_work import TriageUnitOfWork


async def escalate_overdue_calls(cmd: EscalateOverdueCalls, uow: TriageUnitOfWork, ctx: TriageContext) -> int:
    """How many calls it escalated. The claim is a compare-and-set in the same unit of work as the event,
    so a restart, a second instance or a decision committed meanwhile can never make one fire twice."""
    now = ctx.clock()
    fired = 0
    for call in await uow.calls.overdue(now, cmd.limit):
        if not call.needs_deadline_escalation(now):
            continue
        event = publishing.deadline_escalated(call, now, producer=ctx.producer)
        call.mark_escalated(now, event.event_id)
        if await uow.calls.claim_deadline_escalation(call):
            uow.add_event(event)
            fired += 1
    return fired
