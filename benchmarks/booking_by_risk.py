"""Benchmark: booking by risk, before and after (not a test; issue 13's 2,000-journey mix).

Drives triaged journeys (about 12.5% code C, 28% D, the rest E) arriving through the working day over
some working weeks, through booking's real `book_from_triage` handler and SQL unit of work on a real SQLite
database, the fake clock advancing to each arrival. Runs the same journeys twice on fresh databases:
protection off (nothing held, no demand look-ahead: earliest fit for everyone) and on (the service's
settings), and prints the share of each code booked inside its deadline and how many were waitlisted.

    .venv/bin/python -m benchmarks.booking_by_risk                     # 2,000 journeys
    .venv/bin/python -m benchmarks.booking_by_risk --journeys 300 --capacity 0.8
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from services.booking.adapters.unit_of_work import SqlBookingUnitOfWork
from services.booking.application.commands import BookFromTriage, LoadRota
from services.booking.application.handlers.rota import load_rota
from services.booking.application.handlers.triage import book_from_triage
from services.booking.bootstrap import MIGRATIONS, build_context, build_database
from services.booking.domain.appointment import Appointment
from services.booking.domain.rota import SessionPlan
from services.booking.domain.urgency import CLINICAL_SLOTS_PER_SESSION
from services.booking.settings import BookingSettings
from shared.contracts.codes import RESPONSE_WINDOW, Disposition, Modality, SessionPeriod, TriageCode
from shared.contracts.v1 import CallTriaged, CallTriagedData
from shared.logging import configure_logging
from shared.migrations import prepare_schema
from shared.working_time import LONDON

PCN = "U00001"
FIRST_MONDAY = date(2027, 1, 4)
ISSUE_MIX = {TriageCode.C: 251, TriageCode.D: 565, TriageCode.E: 2000 - 251 - 565}
"""Issue 13's black-box run: 251 C, 565 D and 1,184 E journeys of 2,000."""
CODES = (TriageCode.C, TriageCode.D, TriageCode.E)


@dataclass(frozen=True)
class Journey:
    arrives_at: datetime
    code: TriageCode
    practice_ods: str


@dataclass
class Outcome:
    """Per code: how many journeys, how many booked inside their deadline, how many waitlisted."""

    label: str
    journeys: Counter[TriageCode] = field(default_factory=Counter)
    booked: Counter[TriageCode] = field(default_factory=Counter)
    waitlisted: Counter[TriageCode] = field(default_factory=Counter)
    e_in_first_three_days: int = 0
    seconds: float = 0.0

    def share_booked(self, *codes: TriageCode) -> float:
        total = sum(self.journeys[c] for c in codes)
        return sum(self.booked[c] for c in codes) / total if total else 1.0


def working_days(count: int) -> list[date]:
    days: list[date] = []
    day = FIRST_MONDAY
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def journeys_of(
    n: int, *, days: int, practices: list[str], mix: dict[TriageCode, int], seed: int
) -> list[Journey]:
    """`n` journeys in the mix's proportions, arriving at random 08:00-18:30 on `days` working days."""
    rng = random.Random(seed)
    total = sum(mix.values())
    counts = {code: round(n * share / total) for code, share in mix.items()}
    counts[TriageCode.E] += n - sum(counts.values())
    codes = [code for code, count in counts.items() for _ in range(count)]
    rng.shuffle(codes)
    on = working_days(days)
    arrivals = []
    for code in codes:
        day = rng.choice(on)
        minute = rng.randrange(8 * 60, 18 * 60 + 30)
        local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=LONDON)
        arrivals.append(Journey(local.astimezone(UTC), code, rng.choice(practices)))
    return sorted(arrivals, key=lambda j: j.arrives_at)


def rota_for(n: int, *, days: int, capacity: float) -> tuple[list[str], list[SessionPlan]]:
    """Sessions for the arrival days and four working weeks after: `capacity` x the daily demand a day."""
    sessions_a_day = max(1, round(capacity * n / days / CLINICAL_SLOTS_PER_SESSION))
    practices = [f"Y{i:05d}" for i in range(1, -(-sessions_a_day // 2) + 1)]
    plans = []
    for day in working_days(days + 20):
        placed = 0
        for practice in practices:
            for period in SessionPeriod:
                if placed < sessions_a_day:
                    plans.append(SessionPlan(PCN, practice, day, period, "mhp", (Modality.TELEPHONE,)))
                    placed += 1
    return practices, plans


def triaged(journey: Journey) -> BookFromTriage:
    window = RESPONSE_WINDOW[journey.code]
    assert window is not None
    event = CallTriaged.create(
        CallTriagedData(
            call_id=uuid.uuid4(),
            triage_code=journey.code,
            disposition=Disposition.URGENT_APPOINTMENT
            if journey.code is TriageCode.C
            else Disposition.APPOINTMENT,
            respond_by=journey.arrives_at + window,
            modality=None,
            appointment_minutes=30,
            clinician="mhp",
            decision_sequence=1,
        ),
        producer="RMH/triage",
        pcn_code=PCN,
        practice_ods=journey.practice_ods,
        correlation_id=uuid.uuid4(),
        occurred_at=journey.arrives_at,
    )
    data = event.data
    return BookFromTriage(
        call_id=data.call_id,
        correlation_id=event.correlation_id,
        pcn_code=PCN,
        practice_ods=journey.practice_ods,
        needs_appointment=True,
        respond_by=data.respond_by,
        modality=data.modality,
        minutes=data.appointment_minutes,
        supersedes=None,
        cause=event,
        decision_sequence=data.decision_sequence,
        triage_code=data.triage_code,
    )


async def run(
    label: str,
    settings: BookingSettings,
    journeys: list[Journey],
    plans: list[SessionPlan],
    path: Path,
) -> Outcome:
    """Book every journey in arrival order on a fresh database at `path`; what became of each code."""
    now = [journeys[0].arrives_at.replace(hour=0, minute=0)]
    ctx = build_context(
        settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{path}"}), lambda: now[0]
    )
    db = build_database(settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{path}"}))
    await prepare_schema(db, MIGRATIONS)
    async with SqlBookingUnitOfWork.begin(db) as uow:
        await load_rota(LoadRota(tuple(plans)), uow, ctx)
    outcome = Outcome(label)
    started = time.perf_counter()
    for journey in journeys:
        now[0] = journey.arrives_at
        command = triaged(journey)
        async with SqlBookingUnitOfWork.begin(db) as uow:
            booked = await book_from_triage(command, uow, ctx)
        outcome.journeys[journey.code] += 1
        if isinstance(booked, Appointment):
            assert command.respond_by is not None
            assert booked.starts_at < command.respond_by  # the search never books past the deadline
            outcome.booked[journey.code] += 1
            soon = booked.starts_at < journey.arrives_at + timedelta(days=3)
            outcome.e_in_first_three_days += journey.code is TriageCode.E and soon
        else:
            outcome.waitlisted[journey.code] += 1
    outcome.seconds = time.perf_counter() - started
    await db.dispose()
    return outcome


async def before_and_after(
    n: int,
    *,
    days: int,
    capacity: float,
    seed: int,
    after: BookingSettings | None = None,
    mix: dict[TriageCode, int] = ISSUE_MIX,
) -> tuple[Outcome, Outcome]:
    """The same journeys and rota with protection off (before) and on (after, the given settings)."""
    practices, plans = rota_for(n, days=days, capacity=capacity)
    journeys = journeys_of(n, days=days, practices=practices, mix=mix, seed=seed)
    after = after or BookingSettings()
    before = after.model_copy(update={"urgent_share": 0.0, "urgent_demand_look_ahead_hours": 0.0})
    with tempfile.TemporaryDirectory(prefix="booking-by-risk-") as tmp:
        off = await run("before", before, journeys, plans, Path(tmp) / "before.db")
        on = await run("after", after, journeys, plans, Path(tmp) / "after.db")
    return off, on


def report(outcome: Outcome) -> str:
    parts = [f"{outcome.label:>6}:"]
    for code in CODES:
        parts.append(
            f"{code.value} {outcome.booked[code]:4d}/{outcome.journeys[code]:<4d} booked in deadline "
            f"({outcome.share_booked(code):6.1%}), {outcome.waitlisted[code]:4d} waitlisted;"
        )
    parts.append(
        f"C+D {outcome.share_booked(TriageCode.C, TriageCode.D):6.1%}; E booked into the next 3 days: "
        f"{outcome.e_in_first_three_days}; {outcome.seconds:.1f}s"
    )
    return "\n        ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--journeys", type=int, default=2000)
    parser.add_argument("--days", type=int, default=20, help="working days the arrivals are spread over")
    parser.add_argument("--capacity", type=float, default=0.85, help="clinical slots a day / journeys a day")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--share", type=float, default=None, help="BOOKING_URGENT_SHARE (default: settings)")
    parser.add_argument("--hold-hours", type=float, default=None, help="BOOKING_URGENT_HOLD_HOURS")
    parser.add_argument("--look-ahead-hours", type=float, default=None, help="..._DEMAND_LOOK_AHEAD_HOURS")
    args = parser.parse_args()
    configure_logging("booking", level="WARNING")  # one line per booking would swamp the report
    overrides = {
        key: value
        for key, value in (
            ("urgent_share", args.share),
            ("urgent_hold_hours", args.hold_hours),
            ("urgent_demand_look_ahead_hours", args.look_ahead_hours),
        )
        if value is not None
    }
    after = BookingSettings(**overrides)
    print(
        f"{args.journeys} journeys over {args.days} working days, capacity {args.capacity:.0%} of"
        f" daily demand; after: share {after.urgent_share}, hold {after.urgent_hold_hours} h, look-ahead"
        f" {after.urgent_demand_look_ahead_hours} h, rate over {after.urgent_demand_rate_days} days"
    )
    off, on = asyncio.run(
        before_and_after(args.journeys, days=args.days, capacity=args.capacity, seed=args.seed, after=after)
    )
    print(report(off))
    print(report(on))


if __name__ == "__main__":
    main()
