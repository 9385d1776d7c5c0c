"""RebuildProjections: replay the archive into fresh projections."""

from __future__ import annotations

import uuid

from services.metrics.application.commands import RebuildProjections
from services.metrics.application.context import MetricsContext
from services.metrics.application.unit_of_work import MetricsUnitOfWork
from services.metrics.domain.contributions import all_contributions, source_key
from services.metrics.domain.events import entity_key
from services.metrics.domain.facts import Fact
from services.metrics.domain.folding import apply
from services.metrics.domain.kinds import FactKind


async def rebuild_projections(cmd: RebuildProjections, uow: MetricsUnitOfWork, _ctx: MetricsContext) -> int:
    """Fold every archived event, in consumption order, then swap the projections and the kept figures;
    returns the count.

    Run in one unit of work: readers see the old projections until the new ones commit, and (on SQLite)
    the live consumer waits on the write lock rather than applying an event the replay would miss.
    """
    await uow.kept.hold()  # the live consumer waits for the swap rather than applying a missed event
    total = await uow.archive.count()
    facts: dict[tuple[FactKind, uuid.UUID], Fact] = {}
    replayed = 0
    async for batch in uow.archive.replay(cmd.chunk):
        for record in batch:
            target = entity_key(record)
            facts[target] = apply(facts.get(target), record)
        replayed += len(batch)
        if cmd.progress is not None:
            cmd.progress(replayed, total)
    await uow.projections.replace_all(facts.values())
    # The kept figures from scratch: the backfill of a database made before they were kept, too.
    shares = all_contributions(facts.values())
    pcn_of = {source_key(fact): fact.pcn_code for fact in facts.values()}
    practices = {(f.pcn_code, f.practice_ods) for f in facts.values()}
    await uow.kept.replace_all({k: (pcn_of[k], c) for k, c in shares.items()}, practices)
    return replayed
