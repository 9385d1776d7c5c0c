"""RecordDecision: the MHP's decision on a call, its call.triaged and, for codes A and B, case.escalated."""

from __future__ import annotations

from services.triage.application import publishing
from services.triage.application.commands import RecordDecision
from services.triage.application.context import TriageContext
from services.triage.application.unit_of_work import TriageUnitOfWork
from services.triage.domain.call import CallNotFound, Decided


async def record_decision(cmd: RecordDecision, uow: TriageUnitOfWork, ctx: TriageContext) -> Decided:
    """Raises CallNotFound, or InvalidDecision before anything is written.

    The same clinical decision as the call's current one changes nothing (`Decided.repeated`).
    """
    call = await uow.calls.get(cmd.call_id)
    if call is None:
        raise CallNotFound(cmd.call_id)
    current = await uow.decisions.get(call.latest_decision_id) if call.latest_decision_id else None
    decided = call.decide(cmd.decision, current=current, decided_at=cmd.decided_at or ctx.clock())
    if decided.repeated:
        return decided  # a retry or an agreeing clinician: no new decision, no new events
    triaged = publishing.call_triaged(call, decided, producer=ctx.producer)
    uow.add_event(triaged)
    escalated = publishing.risk_escalated(call, decided, triaged, producer=ctx.producer)
    if escalated is not None:
        uow.add_event(escalated)
    await uow.decisions.add(decided.decision)
    if decided.superseded is not None:
        await uow.decisions.save(decided.superseded)
    await uow.calls.save(call, replacing=current.decision_id if current else None)
    return decided
