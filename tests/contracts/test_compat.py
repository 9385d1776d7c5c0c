"""The additive-change rule itself: what it accepts and what it refuses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from shared.contracts.compat import breaking_changes


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


class Before(BaseModel):
    call_id: str
    channel: str = Field(json_schema_extra={"enum": ["telephone", "walk_in"]})
    minutes: int = Field(le=120)
    note: str | None = None


def test_new_optional_field_and_new_enum_value_are_additive() -> None:
    class After(BaseModel):
        call_id: str
        channel: str = Field(json_schema_extra={"enum": ["telephone", "walk_in", "video"]})
        minutes: int = Field(le=240)
        note: str | None = None
        room: str | None = None

    assert breaking_changes(_schema(Before), _schema(After)) == []


def test_removed_field_is_breaking() -> None:
    class After(BaseModel):
        channel: str = Field(json_schema_extra={"enum": ["telephone", "walk_in"]})
        minutes: int = Field(le=120)
        note: str | None = None

    assert breaking_changes(_schema(Before), _schema(After)) == ["$.call_id: field removed"]


def test_new_required_field_is_breaking() -> None:
    class After(Before):
        room: str

    assert breaking_changes(_schema(Before), _schema(After)) == ["$.room: field is now required"]


def test_removed_enum_value_and_tightened_bound_are_breaking() -> None:
    class After(BaseModel):
        call_id: str
        channel: str = Field(json_schema_extra={"enum": ["telephone"]})
        minutes: int = Field(le=60)
        note: str | None = None

    problems = breaking_changes(_schema(Before), _schema(After))
    assert "$.channel: enum values removed: ['walk_in']" in problems
    assert "$.minutes: maximum changed from 120 to 60" in problems


def test_type_change_and_losing_null_are_breaking() -> None:
    class After(BaseModel):
        call_id: int
        channel: str = Field(json_schema_extra={"enum": ["telephone", "walk_in"]})
        minutes: int = Field(le=120)
        note: str = ""

    problems = breaking_changes(_schema(Before), _schema(After))
    assert "$.call_id: type changed from string to integer" in problems
    assert "$.note: no longer accepts null" in problems
