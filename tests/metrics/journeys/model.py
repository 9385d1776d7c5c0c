"""The journeys' shape: a journey, its appointments and referrals, the rota sessions, and the month."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.contracts.codes import (
    AppointmentType,
    AttendanceStatus,
    BookedBy,
    CancelledBy,
    Channel,
    Destination,
    Disposition,
    DnaFollowUpOutcome,
    EscalationOutcome,
    EscalationReason,
    EscalationTarget,
    NextStep,
    OutOfScopeReason,
    SessionPeriod,
    SignpostOutcome,
    TriageCode,
)

LONDON = ZoneInfo("Europe/London")
MONTH = "2026-10"
AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PCNS: dict[str, tuple[str, ...]] = {"U00123": ("Y01234", "Y01235", "Y01236"), "U00456": ("Y02001", "Y02002")}
WINDOW = {"A": timedelta(0), "B": timedelta(hours=4), "C": timedelta(hours=24), "D": timedelta(hours=72)}
WINDOW["E"] = timedelta(weeks=4)


@dataclass
class Appointment:
    appointment_id: uuid.UUID
    kind: AppointmentType
    booked_at: datetime
    starts_at: datetime
    minutes: int
    booked_by: BookedBy = BookedBy.MHP_SERVICE
    respond_by: datetime | None = None
    cancelled: tuple[datetime, CancelledBy] | None = None
    outcome: str | None = None  # "attended" / "dna"
    attendance: AttendanceStatus | None = None
    outcome_at: datetime | None = None
    next_step: NextStep | None = None
    follow_up: tuple[datetime, DnaFollowUpOutcome] | None = None


@dataclass
class Referral:
    referral_id: uuid.UUID
    destination: Destination
    made_at: datetime
    previous: uuid.UUID | None = None
    accepted_at: datetime | None = None
    declined_at: datetime | None = None
    completed_at: datetime | None = None
    withdrawn_at: datetime | None = None


@dataclass
class Journey:
    pcn: str
    practice: str
    correlation_id: uuid.UUID
    call_id: uuid.UUID | None = None
    channel: Channel | None = None
    nhs_number: str = ""
    date_of_birth: date = date(1980, 1, 1)
    received_at: datetime | None = None
    reason: str = ""
    triages: list[tuple[datetime, TriageCode, Disposition, datetime | None, OutOfScopeReason | None]] = field(
        default_factory=list
    )
    waitlisted_at: datetime | None = None
    escalations: list[tuple[uuid.UUID, datetime, EscalationReason, EscalationTarget]] = field(
        default_factory=list
    )
    climbed: dict[uuid.UUID, tuple[datetime, EscalationTarget]] = field(default_factory=dict)
    """An escalation nobody acknowledged in time, re-escalated (rung 1) to this owner at this time."""
    acknowledged: dict[uuid.UUID, datetime] = field(default_factory=dict)
    resolved: dict[uuid.UUID, tuple[datetime, EscalationOutcome]] = field(default_factory=dict)
    appointments: list[Appointment] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    signposts: list[tuple[uuid.UUID, datetime, Destination, SignpostOutcome, OutOfScopeReason | None]] = (
        field(default_factory=list)
    )


@dataclass
class Session:
    session_id: uuid.UUID
    pcn: str
    practice: str
    day: date
    period: SessionPeriod
    starts_at: datetime
    ends_at: datetime
    cancelled_at: datetime | None = None
