"""Metrics use cases: archive and project each consumed event, rebuild projections from the archive, and
read the facts the reports need."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, update
from sqlalchemy import event as sa_event
from sqlalchemy import select as core_select
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.metrics import domain
from services.metrics.models import PROJECTIONS, ArchivedEventRow, EscalationRow
from shared.contracts.envelope import Envelope
from shared.db import Database, utcnow

FACT_CLASSES: dict[str, type[Any]] = {
    "call": domain.CallFact,
    "appointment": domain.AppointmentFact,
    "session": domain.SessionFact,
    "escalation": domain.EscalationFact,
    "referral": domain.ReferralFact,
    "signpost": domain.SignpostFact,
}
KEY_FIELD = {kind: fields(cls)[0].name for kind, cls in FACT_CLASSES.items()}
ARCHIVE = ArchivedEventRow.__table__  # type: ignore[attr-defined]

DEADLINE_REASONS = frozenset({"triage_deadline_breach", "appointment_deadline_at_risk"})


class LiveFeed:
    """Fan-out of escalations and deadline breaches to the open `/live` streams of this process."""

    def __init__(self, keep: int = 50) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self.recent: deque[dict[str, Any]] = deque(maxlen=keep)

    def publish(self, item: dict[str, Any]) -> None:
        self.recent.append(item)
        for queue in list(self._subscribers):
            if queue.full():
                continue  # a stalled browser must not hold up the consumer
            queue.put_nowait(item)

    def since(self, event_id: str | None) -> list[dict[str, Any]]:
        """Recent items after `event_id` (a reconnecting browser's Last-Event-ID); none if unknown."""
        items = list(self.recent)
        ids = [str(i["event_id"]) for i in items]
        if event_id is None or event_id not in ids:
            return []
        return items[ids.index(event_id) + 1 :]

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)


@dataclass
class MetricsContext:
    clock: Callable[[], datetime] = utcnow
    feed: LiveFeed = field(default_factory=LiveFeed)


def archived(event: Envelope[Any]) -> domain.ArchivedEvent:
    """The event as the archive keeps it; the live path and a rebuild both project from this form."""
    data = event.data.model_dump(mode="json")
    return domain.ArchivedEvent(
        event_id=event.event_id,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        correlation_id=event.correlation_id,
        pcn_code=event.pcn_code,
        practice_ods=event.practice_ods,
        data=domain.redact(event.event_type, data, event.occurred_at),
    )


def feed_item(event: domain.ArchivedEvent) -> dict[str, Any] | None:
    """What the live feed shows for this event, if anything (codes only: no patient data)."""
    d = event.data
    base = {
        "event_id": str(event.event_id),
        "event_type": event.event_type,
        "pcn_code": event.pcn_code,
        "practice_ods": event.practice_ods,
        "occurred_at": event.occurred_at.isoformat(),
    }
    if event.event_type == "case.escalated":
        reason = str(d["reason"])
        kind = "deadline_breach" if reason in DEADLINE_REASONS else "escalation"
        return {**base, "kind": kind, "reason": reason, "target": str(d["target"])}
    if event.event_type == "appointment.waitlisted":
        return {**base, "kind": "deadline_at_risk", "reason": "no_slot_inside_deadline", "target": None}
    if event.event_type == "appointment.booked" and d.get("respond_by"):
        starts_at, respond_by = domain._dt(d["starts_at"]), domain._dt(d["respond_by"])
        if starts_at is not None and respond_by is not None and starts_at > respond_by:
            return {**base, "kind": "deadline_breach", "reason": "booked_after_deadline", "target": None}
    return None


def to_fact(kind: str, row: SQLModel) -> Any:
    return FACT_CLASSES[kind](**{f.name: getattr(row, f.name) for f in fields(FACT_CLASSES[kind])})


async def on_event(session: AsyncSession, event: Envelope[Any], ctx: MetricsContext) -> None:
    """Archive the redacted event and fold it into its projection, in the inbox's transaction."""
    record = archived(event)
    # Core statements on the unit of work's connection: three round trips (archive, read, write) and no
    # ORM flush machinery, so the consumer keeps up with the platform.
    conn = await session.connection()
    await conn.execute(
        insert(ARCHIVE).values(
            event_id=record.event_id,
            event_type=record.event_type,
            occurred_at=record.occurred_at,
            correlation_id=record.correlation_id,
            pcn_code=record.pcn_code,
            practice_ods=record.practice_ods,
            data=json.dumps(record.data, separators=(",", ":")),
        )
    )
    kind, key = domain.entity_key(record)
    table = PROJECTIONS[kind].__table__  # type: ignore[attr-defined]
    key_column = table.c[KEY_FIELD[kind]]
    existing = (await conn.execute(core_select(table).where(key_column == key))).mappings().first()
    fact = domain.apply(FACT_CLASSES[kind](**existing) if existing is not None else None, record)
    values = domain.fact_row(fact)
    if existing is None:
        await conn.execute(insert(table).values(**values))
    else:
        await conn.execute(update(table).where(key_column == key).values(**values))
    item = feed_item(record)
    if item is not None:
        # Shown only once the transaction commits, so a rolled-back event never reaches a screen.
        sa_event.listen(session.sync_session, "after_commit", lambda _s: ctx.feed.publish(item), once=True)


def make_handler(ctx: MetricsContext) -> Callable[[AsyncSession, Envelope[Any]], Any]:
    async def handle(session: AsyncSession, event: Envelope[Any]) -> None:
        await on_event(session, event, ctx)

    return handle


# --- rebuild ----------------------------------------------------------------------------------------

_UNREAD = uuid.UUID(int=0)

ProgressCallback = Callable[[int, int], None]
"""Called with (events replayed so far, events in the archive)."""


async def archive_size(db: Database) -> int:
    async with db.read() as session:
        return int((await session.exec(select(func.count()).select_from(ArchivedEventRow))).one())


async def rebuild(db: Database, *, progress: ProgressCallback | None = None, chunk: int = 20_000) -> int:
    """Replay the archive, in consumption order, into fresh projections; returns the events replayed.

    One transaction: readers see the old projections until the new ones commit, and (on SQLite) the
    live consumer waits on the write lock rather than applying an event the replay would miss.
    """
    facts: dict[tuple[str, uuid.UUID], Any] = {}
    replayed = 0
    async with db.transaction() as session:
        total = int((await session.exec(select(func.count()).select_from(ArchivedEventRow))).one())
        columns = ArchivedEventRow.__table__.c  # type: ignore[attr-defined]
        # Core statements on the session's connection: no ORM objects for a million rows.
        conn = await session.connection()
        last = 0
        while True:
            result = await conn.execute(
                core_select(
                    columns.seq,
                    columns.event_type,
                    columns.occurred_at,
                    columns.pcn_code,
                    columns.practice_ods,
                    columns.data,
                )
                .where(columns.seq > last)
                .order_by(columns.seq)
                .limit(chunk)
            )
            rows = result.all()
            if not rows:
                break
            for seq, event_type, occurred_at, pcn, practice, data in rows:
                # Projections never read the event or episode id: skip decoding two UUIDs per row.
                record = domain.ArchivedEvent(
                    _UNREAD, event_type, occurred_at, _UNREAD, pcn, practice, json.loads(data)
                )
                target = domain.entity_key(record)
                facts[target] = domain.apply(facts.get(target), record)
                last = seq
            replayed += len(rows)
            if progress is not None:
                progress(replayed, total)
        for model in PROJECTIONS.values():
            await conn.execute(delete(model))
        by_kind: dict[str, list[dict[str, Any]]] = {kind: [] for kind in PROJECTIONS}
        for (kind, _key), fact in facts.items():
            by_kind[kind].append(domain.fact_row(fact))
        for kind, values in by_kind.items():
            table = PROJECTIONS[kind].__table__  # type: ignore[attr-defined]
            for start in range(0, len(values), 5000):
                await conn.execute(insert(table), values[start : start + 5000])
    return replayed


# --- reading ----------------------------------------------------------------------------------------


async def load_facts(session: AsyncSession, pcn: str | None = None) -> dict[str, domain.Facts]:
    """Every fact, grouped by PCN (only `pcn` when given)."""
    out: dict[str, domain.Facts] = {}
    attribute = {
        "call": "calls",
        "appointment": "appointments",
        "session": "sessions",
        "escalation": "escalations",
        "referral": "referrals",
        "signpost": "signposts",
    }
    for kind, model in PROJECTIONS.items():
        statement = select(model)
        if pcn is not None:
            statement = statement.where(col(model.pcn_code) == pcn)  # type: ignore[attr-defined]
        for row in (await session.exec(statement)).all():
            facts = out.setdefault(row.pcn_code, domain.Facts())  # type: ignore[attr-defined]
            getattr(facts, attribute[kind]).append(to_fact(kind, row))
    return dict(sorted(out.items()))


async def known_pcns(session: AsyncSession) -> list[str]:
    rows = await session.exec(select(ArchivedEventRow.pcn_code).distinct())
    return sorted(rows.all())


async def recent_alerts(session: AsyncSession, limit: int = 20) -> list[dict[str, Any]]:
    """The latest escalations from the store, for a freshly opened page (the feed adds new ones)."""
    rows = await session.exec(
        select(EscalationRow).order_by(col(EscalationRow.occurred_at).desc()).limit(limit)
    )
    return [
        {
            "kind": "deadline_breach" if r.reason in DEADLINE_REASONS else "escalation",
            "event_type": "case.escalated",
            "pcn_code": r.pcn_code,
            "practice_ods": r.practice_ods,
            "occurred_at": r.occurred_at.isoformat(),
            "reason": r.reason,
            "target": r.target,
        }
        for r in rows.all()
    ]


# --- reports ----------------------------------------------------------------------------------------


class UnknownPcn(LookupError):
    pass


async def monthly_report(db: Database, pcn: str, month: str, as_of: datetime) -> dict[str, Any]:
    async with db.read() as session:
        facts = (await load_facts(session, pcn)).get(pcn)
    if facts is None:
        raise UnknownPcn(pcn)
    return domain.monthly_return(pcn, month, facts, as_of)


async def trust_view(db: Database, month: str, as_of: datetime, history: int = 6) -> dict[str, Any]:
    """Every PCN side by side for `month`, outliers flagged, with `history` months of trend per PCN."""
    async with db.read() as session:
        by_pcn = await load_facts(session)
    months = domain.previous_months(month, history)
    rows: dict[str, dict[str, Any]] = {}
    trends: dict[str, list[dict[str, Any]]] = {}
    for pcn, facts in by_pcn.items():
        trend = []
        for m in months:
            figs = domain.figures(facts, m, as_of)
            within, breached = domain.deadline_totals(figs["response_times"])
            trend.append(
                {
                    "month": m,
                    "dna_rate": figs["attendance"]["dna_rate"],
                    "deadline_met_rate": domain._ratio(within, within + breached),
                    "bookable_minutes": figs["capacity"]["bookable_minutes"],
                    "booked_minutes": figs["capacity"]["booked_minutes"],
                    "attended_minutes": figs["capacity"]["attended_minutes"],
                    "utilisation": figs["capacity"]["utilisation"],
                    "initial_assessments": figs["initial_assessments"]["total"],
                    "escalations": sum(figs["escalations"].values()),
                    "response_times": figs["response_times"],
                }
            )
        trends[pcn] = trend
        rows[pcn] = trend[-1]
    flags = {
        "dna_rate": domain.outliers({p: r["dna_rate"] for p, r in rows.items()}),
        "deadline_met_rate": domain.outliers({p: r["deadline_met_rate"] for p, r in rows.items()}),
    }
    return {
        "month": month,
        "timezone": "Europe/London",
        "months": months,
        "pcns": {
            pcn: {
                **{k: v for k, v in row.items() if k != "response_times"},
                "flags": {metric: flags[metric][pcn] for metric in flags},
            }
            for pcn, row in rows.items()
        },
        "response_times": {pcn: row["response_times"] for pcn, row in rows.items()},
        "trends": {
            pcn: [{k: v for k, v in t.items() if k != "response_times"} for t in ts]
            for pcn, ts in trends.items()
        },
        "flag_rules": {
            "2sd_high/2sd_low": "outside the mean ± 2 population standard deviations of all PCNs",
            "iqr_high/iqr_low": "outside Tukey's fences: Q1 - 1.5 IQR, Q3 + 1.5 IQR",
        },
    }
