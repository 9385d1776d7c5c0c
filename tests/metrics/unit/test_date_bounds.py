"""Issue 20: metrics keeps only what its contract accepts, and nothing it derives from an accepted value
overflows or goes negative (month buckets, ages, durations), even at the edges of the contract's window."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.metrics.application import queries
from services.metrics.application.commands import ArchiveEvent
from services.metrics.application.handlers.archive import archive_event
from services.metrics.domain.calendar import month_of
from shared.contracts.codes import (
    AppointmentType,
    BookedBy,
    Disposition,
    Modality,
    SessionPeriod,
    TriageCode,
)
from shared.contracts.envelope import Envelope
from shared.contracts.registry import ContractError, parse_event
from shared.contracts.text import EARLIEST_INSTANT, LATEST_AHEAD, MAX_AGE_YEARS
from shared.contracts.v1 import (
    AppointmentBooked,
    AppointmentBookedData,
    CallTriaged,
    CallTriagedData,
    SessionScheduled,
    SessionScheduledData,
)
from shared.working_time import LONDON
from tests.metrics.unit.builders import altered_body
from tests.metrics.unit.fakes import FakeMetricsUnitOfWork, make_context
from tests.support.factories import call_received

NOW = datetime.now(UTC)
EARLIEST = EARLIEST_INSTANT
LATEST = NOW + LATEST_AHEAD - timedelta(minutes=5)
ORG: dict[str, Any] = {"producer": "U00123/booking", "pcn_code": "U00123", "practice_ods": "Y01234"}


@pytest.mark.parametrize(
    "changes",
    [
        {"occurred_at": "9999-12-31T23:59:59Z"},
        {"occurred_at": "0001-01-01T00:00:00Z"},
        {"occurred_at": 1767225600},  # a number pydantic would read as Unix time
        {"occurred_at": "1999-12-31T23:59:59Z"},
        {"occurred_at": "2026-10-05T09:00:00"},  # naive
        {"data__patient__date_of_birth": "1800-01-01"},
        {"data__patient__date_of_birth": "2100-01-01"},
    ],
)
def test_the_contract_metrics_consumes_through_refuses_impossible_dates(changes: dict[str, Any]) -> None:
    with pytest.raises(ContractError):
        parse_event(altered_body(call_received(), **changes))


def _edge_events(at: datetime) -> list[Envelope[Any]]:
    """A call, its triage, a booking and a session, all at the instant `at`, with extreme ages."""
    local_day = at.date()
    oldest = date(local_day.year - MAX_AGE_YEARS + 1, 1, 1)
    calls = [
        call_received(date_of_birth=dob, occurred_at=at) for dob in (local_day - timedelta(days=1), oldest)
    ]
    call_id = calls[0].data.call_id
    correlation: dict[str, Any] = {"correlation_id": uuid.uuid4(), "occurred_at": at}
    triaged = CallTriaged.create(
        CallTriagedData(
            call_id=call_id,
            triage_code=TriageCode.C,
            disposition=Disposition.URGENT_APPOINTMENT,
            respond_by=at,
            modality=Modality.TELEPHONE,
            appointment_minutes=30,
            clinician="mhp-001",
        ),
        **ORG,
        **correlation,
    )
    booked = AppointmentBooked.create(
        AppointmentBookedData(
            appointment_id=uuid.uuid4(),
            call_id=call_id,
            starts_at=EARLIEST if at != EARLIEST else LATEST,  # as far from the triage as allowed
            minutes=240,
            modality=Modality.TELEPHONE,
            appointment_type=AppointmentType.INITIAL_ASSESSMENT,
            booked_by=BookedBy.MHP_SERVICE,
            respond_by=at,
        ),
        **ORG,
        **correlation,
    )
    # A session at the very edge of the window (the contract refuses one that ends before it starts).
    session_starts = at if at == EARLIEST else at - timedelta(hours=4)
    session = SessionScheduled.create(
        SessionScheduledData(
            session_id=uuid.uuid4(),
            session_date=session_starts.astimezone(LONDON).date(),
            period=SessionPeriod.AM,
            starts_at=session_starts,
            ends_at=session_starts + timedelta(hours=4),
            modalities=(Modality.TELEPHONE,),
            clinician="mhp-001",
        ),
        **ORG,
        **correlation,
    )
    return [*calls, triaged, booked, session]


def _numbers(value: Any) -> Iterator[float]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield value


@pytest.mark.parametrize("at", [EARLIEST, LATEST], ids=["earliest", "latest"])
async def test_reports_at_the_edges_of_the_window_neither_overflow_nor_go_negative(at: datetime) -> None:
    uow, ctx = FakeMetricsUnitOfWork(), make_context(now=NOW)
    for event in _edge_events(at):
        await archive_event(ArchiveEvent(event), uow, ctx)
    bands = sorted(
        str(r.data.get("age_band")) for r in uow.archive.records if r.event_type == "call.received"
    )
    assert bands == ["over_65", "under_18"]
    for month in {month_of(EARLIEST), month_of(at), month_of(LATEST)}:
        assert month is not None
        report = await queries.monthly_report(uow, "U00123", month, NOW)
        view = await queries.trust_report(uow, month, NOW)
        numbers = [*_numbers(report["pcn_total"]), *_numbers(view["pcns"])]
        assert numbers
        assert min(numbers) >= 0
