"""ArchiveEvent: keep the redacted event and fold it into its fact, in the consumer's transaction."""

from __future__ import annotations

from typing import Any

from services.metrics.application.commands import ArchiveEvent
from services.metrics.application.context import MetricsContext
from services.metrics.application.keeping import keep_figures
from services.metrics.application.unit_of_work import MetricsUnitOfWork
from services.metrics.domain.events import ArchivedEvent, UnknownEventType, entity_key, event_type_of
from services.metrics.domain.facts import Fact
from services.metrics.domain.folding import apply
from services.metrics.domain.live_feed import feed_item
from services.metrics.domain.privacy import redact
from shared.contracts.envelope import Envelope
from shared.contracts.v1 import ALL_V1, CallReceived

CONTRACTS = frozenset(ALL_V1)


def archived(event: Envelope[Any]) -> ArchivedEvent:
    """The validated event as the archive keeps it; the live path and a rebuild both fold this form."""
    if type(event) not in CONTRACTS:
        # Only a v1 contract model (validated by parse_event) may be archived: never a bare envelope.
        raise UnknownEventType("event_type: not a v1 contract metrics consumes")
    event_type_of(event.event_type)
    date_of_birth = event.data.patient.date_of_birth if isinstance(event, CallReceived) else None
    return ArchivedEvent(
        event_id=event.event_id,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        correlation_id=event.correlation_id,
        pcn_code=event.pcn_code,
        practice_ods=event.practice_ods,
        data=redact(
            event.event_type,
            event.data.model_dump(mode="json"),
            event.occurred_at,
            date_of_birth=date_of_birth,
        ),
    )


async def archive_event(cmd: ArchiveEvent, uow: MetricsUnitOfWork, ctx: MetricsContext) -> Fact:
    """Archive, fold into the one fact the event concerns and keep the figures it changes (all in the
    consumer's transaction); returns the fact as stored."""
    record = archived(cmd.event)
    await uow.kept.hold()
    await uow.archive.add(record)
    kind, key = entity_key(record)
    existing = await uow.projections.get(kind, key)
    fact = apply(existing, record)
    if existing is None:
        await uow.projections.add(fact)
    else:
        await uow.projections.update(fact)
    await keep_figures(uow, existing, fact)
    item = feed_item(record)
    if item is not None:
        # Shown only once the transaction commits, so a rolled-back event never reaches a screen.
        uow.after_commit(lambda: ctx.feed.publish(item))
    return fact
