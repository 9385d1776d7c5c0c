"""Keeping the figures as events arrive: after a fold, refresh the contribution of every fact it touches.

An appointment's share depends on its call (the channel) and a call's on its appointments (when it was
first seen), so a change to one refreshes the other; everything else is one fact, one contribution.
"""

from __future__ import annotations

from services.metrics.application.unit_of_work import MetricsUnitOfWork
from services.metrics.domain.contributions import contribution, same_pcn, source_key
from services.metrics.domain.facts import AppointmentFact, CallFact, Fact
from services.metrics.domain.kinds import FactKind


async def keep_figures(uow: MetricsUnitOfWork, before: Fact | None, after: Fact) -> None:
    """`before`/`after`: the fact the event changed, as it was and as it is now stored."""
    if before is None:
        await uow.kept.note_practice(after.pcn_code, after.practice_ods)
    touched: list[Fact] = [after]
    if isinstance(after, CallFact) and (not isinstance(before, CallFact) or before.channel != after.channel):
        touched += await uow.projections.appointments_of_call(after.call_id)
    if isinstance(after, AppointmentFact):
        calls = {after.call_id, before.call_id if isinstance(before, AppointmentFact) else None}
        for call_id in sorted(c for c in calls if c is not None):
            call = await uow.projections.get(FactKind.CALL, call_id)
            if call is not None:
                touched.append(call)
    for fact in touched:
        await refresh(uow, fact)


async def refresh(uow: MetricsUnitOfWork, fact: Fact) -> None:
    """Recompute one fact's contribution from it and its related facts; store it if it changed."""
    if isinstance(fact, AppointmentFact):
        call = None
        if fact.call_id is not None:
            found = await uow.projections.get(FactKind.CALL, fact.call_id)
            call = same_pcn(found if isinstance(found, CallFact) else None, fact.pcn_code)
        new = contribution(fact, call=call)
    elif isinstance(fact, CallFact):
        appointments = await uow.projections.appointments_of_call(fact.call_id)
        new = contribution(fact, appointments=[a for a in appointments if a.pcn_code == fact.pcn_code])
    else:
        new = contribution(fact)
    key = source_key(fact)
    old = await uow.kept.contribution(key)
    if old != new:
        await uow.kept.replace(key, fact.pcn_code, old, new)
