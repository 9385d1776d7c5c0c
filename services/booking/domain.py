"""Booking rules without I/O: the rota's wall-clock times, cutting sessions into slots, weeks, rota files.

The rota is read in Europe/London wall-clock time; everything stored or compared is UTC.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from shared.contracts.codes import AppointmentType, Modality, SessionPeriod
from shared.contracts.envelope import PcnCode, PracticeOds, StaffId

LONDON = ZoneInfo("Europe/London")
SLOT_MINUTES = 30
SLOT = timedelta(minutes=SLOT_MINUTES)

# Local wall-clock bounds of a session; the last slot of each is the MHP's admin slot.
PERIOD_TIMES: dict[SessionPeriod, tuple[time, time]] = {
    SessionPeriod.AM: (time(9, 0), time(12, 30)),
    SessionPeriod.PM: (time(13, 30), time(17, 0)),
}

CLINICAL = "clinical"
ADMIN = "admin"


class RotaEntry(BaseModel):
    """One MHP session in a rota file or HTTP request."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pcn_code: PcnCode
    practice_ods: PracticeOds
    session_date: date
    period: SessionPeriod
    clinician: StaffId
    modalities: tuple[Modality, ...] = Field(min_length=1)
    room: str | None = Field(default=None, max_length=64)

    @field_validator("modalities", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        # CSV cells carry a list as "telephone;face_to_face".
        if isinstance(value, str):
            return tuple(part.strip() for part in value.replace("|", ";").split(";") if part.strip())
        return value

    @field_validator("room", mode="before")
    @classmethod
    def _blank_room(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _face_to_face_needs_room(self) -> RotaEntry:
        if Modality.FACE_TO_FACE in self.modalities and self.room is None:
            raise ValueError("room: a session offering face_to_face needs a room at the practice")
        return self


@dataclass(frozen=True)
class SlotPlan:
    seq: int
    starts_at: datetime
    ends_at: datetime
    kind: str
    modality: Modality | None  # None for the admin slot


def session_bounds(session_date: date, period: SessionPeriod) -> tuple[datetime, datetime]:
    """UTC start and end of a session, from its London wall-clock times (BST-aware)."""
    start, end = PERIOD_TIMES[period]
    return (
        datetime.combine(session_date, start, tzinfo=LONDON).astimezone(UTC),
        datetime.combine(session_date, end, tzinfo=LONDON).astimezone(UTC),
    )


def plan_slots(entry: RotaEntry) -> list[SlotPlan]:
    """Cut a session into 30-minute slots, modalities in turn, the last slot kept for admin."""
    starts_at, ends_at = session_bounds(entry.session_date, entry.period)
    count = (ends_at - starts_at) // SLOT
    slots = []
    for seq in range(count):
        begin = starts_at + seq * SLOT
        admin = seq == count - 1
        slots.append(
            SlotPlan(
                seq=seq,
                starts_at=begin,
                ends_at=begin + SLOT,
                kind=ADMIN if admin else CLINICAL,
                modality=None if admin else entry.modalities[seq % len(entry.modalities)],
            )
        )
    return slots


def slots_needed(minutes: int) -> int:
    """A 60-minute (complex) appointment takes two adjacent slots."""
    return max(1, -(-minutes // SLOT_MINUTES))


def week_bounds(instant: datetime) -> tuple[datetime, datetime]:
    """The London week (Monday 00:00 to Monday 00:00) containing an instant, in UTC."""
    local = instant.astimezone(LONDON).date()
    monday = local - timedelta(days=local.weekday())
    return (
        datetime.combine(monday, time(0), tzinfo=LONDON).astimezone(UTC),
        datetime.combine(monday + timedelta(days=7), time(0), tzinfo=LONDON).astimezone(UTC),
    )


def follow_up_type(previous: AppointmentType) -> AppointmentType:
    """After an initial assessment comes the second assessment; after that, follow-ups."""
    if previous is AppointmentType.INITIAL_ASSESSMENT:
        return AppointmentType.SECOND_ASSESSMENT
    return AppointmentType.FOLLOW_UP


_ENTRIES = TypeAdapter(list[RotaEntry])


class RotaFileError(ValueError):
    pass


def parse_rota(text: str, fmt: str) -> list[RotaEntry]:
    """Parse a rota file (`csv` with a header row, or `json`: a list or {"sessions": [...]})."""
    rows: Any
    if fmt == "json":
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RotaFileError(f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
        if isinstance(rows, dict):
            rows = rows.get("sessions")
    elif fmt == "csv":
        rows = [
            {k.strip(): v.strip() for k, v in row.items() if k and v is not None}
            for row in csv.DictReader(io.StringIO(text))
        ]
    else:
        raise RotaFileError(f"unknown rota format {fmt!r}: use csv or json")
    if not isinstance(rows, list):
        raise RotaFileError("expected a list of sessions")
    try:
        return _ENTRIES.validate_python(rows)
    except Exception as exc:
        raise RotaFileError(str(exc)) from None
