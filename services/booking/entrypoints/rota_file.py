"""A rota as operators write it (CSV or JSON file, or the HTTP body's rows), validated into session plans."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from services.booking.domain.rota import SessionPlan
from shared.contracts.codes import Modality, SessionPeriod
from shared.contracts.envelope import PcnCode, PracticeOds, StaffId
from shared.errors import RuleViolation


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
    def _domain_rules(self) -> RotaEntry:
        # The rules live on the domain's SessionPlan; here they become a validation error naming the field.
        try:
            self.plan()
        except RuleViolation as exc:
            raise ValueError(exc.reason) from None
        return self

    def plan(self) -> SessionPlan:
        return SessionPlan(
            pcn_code=self.pcn_code,
            practice_ods=self.practice_ods,
            session_date=self.session_date,
            period=self.period,
            clinician=self.clinician,
            modalities=self.modalities,
            room=self.room,
        )


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
