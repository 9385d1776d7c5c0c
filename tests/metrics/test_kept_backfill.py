"""Migration 0005 backfills the kept figures of a database that already holds projections, so an upgraded
service reports the same figures at once (before any `mhp metrics rebuild`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from services.metrics.adapters.tables import TABLES
from services.metrics.adapters.unit_of_work import SqlMetricsUnitOfWork
from services.metrics.application import queries
from services.metrics.application.handlers.archive import archived
from services.metrics.bootstrap import MIGRATIONS
from services.metrics.domain.events import entity_key
from services.metrics.domain.facts import Fact
from services.metrics.domain.folding import apply
from services.metrics.domain.kinds import FactKind
from shared.db import Database
from shared.migrations import upgrade
from tests.metrics import journeys as gen


async def test_upgrading_a_database_with_projections_backfills_the_kept_figures(
    make_database_url: Callable[[str], str],
) -> None:
    journeys, sessions = gen.generate(seed=11, journeys_per_pcn=6)
    facts: dict[tuple[FactKind, uuid.UUID], Fact] = {}
    for event in gen.events(journeys, sessions):
        record = archived(event)
        facts[entity_key(record)] = apply(facts.get(entity_key(record)), record)
    db = Database(make_database_url("metrics"), TABLES)
    try:
        await upgrade(db, MIGRATIONS, "0004")
        async with SqlMetricsUnitOfWork.begin(db) as uow:
            await uow.projections.replace_all(facts.values())
        await upgrade(db, MIGRATIONS)
        async with SqlMetricsUnitOfWork.reading(db) as uow:
            pcns = sorted({f.pcn_code for f in facts.values()})
            assert pcns
            for pcn in pcns:
                kept = await queries.monthly_report(uow, pcn, gen.MONTH, gen.AS_OF)
                assert kept["pcn_total"]["attendance"]["due"] > 0
                assert kept == await queries.recomputed_monthly_report(uow, pcn, gen.MONTH, gen.AS_OF)
            view = await queries.trust_report(uow, gen.MONTH, gen.AS_OF)
            assert view == await queries.recomputed_trust_report(uow, gen.MONTH, gen.AS_OF)
    finally:
        await db.dispose()
