"""The tables of the figures kept as events arrive (issue 17): counters and medians per (PCN, scope,
month, name), the samples behind the medians, each fact's contribution, deadline cases and waiting cases.
No patient identity: ids, codes, instants and counts only."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Float, Index, Text
from sqlmodel import Field, SQLModel

from shared.db import UtcDateTime


class PracticeRow(SQLModel, table=True):
    """Every (PCN, practice) of which an event arrived: the practices a return lists, the PCNs known."""

    __tablename__ = "metrics_practices"

    pcn_code: str = Field(primary_key=True)
    practice_ods: str = Field(primary_key=True)


class FigureRow(SQLModel, table=True):
    """A counter or a median of one scope-month; scope '' is the PCN's total."""

    __tablename__ = "metrics_figures"
    # The trust view reads PCN totals (scope '') of a few months and names across every PCN: covered.
    __table_args__ = (Index("ix_metrics_figures_scope_month", "scope", "month", "name", "pcn_code", "value"),)

    pcn_code: str = Field(primary_key=True)
    scope: str = Field(primary_key=True)
    month: str = Field(primary_key=True)
    name: str = Field(primary_key=True)
    value: float = Field(sa_column=Column(Float, nullable=False))


class SampleRow(SQLModel, table=True):
    """One fact's value behind a median (minutes), per scope."""

    __tablename__ = "metrics_samples"
    __table_args__ = (Index("ix_metrics_samples_bucket", "pcn_code", "scope", "month", "name"),)

    source: str = Field(primary_key=True)
    scope: str = Field(primary_key=True)
    name: str = Field(primary_key=True)
    pcn_code: str
    month: str
    value: float = Field(sa_column=Column(Float, nullable=False))


class ContributionRow(SQLModel, table=True):
    """A fact's current share of the figures, so that a change applies only its difference."""

    __tablename__ = "metrics_contributions"

    source: str = Field(primary_key=True)
    payload: str = Field(sa_column=Column(Text, nullable=False))


class DeadlineCaseRow(SQLModel, table=True):
    """A C-E call due in `month`: `before` until `transition_at`, then `after`."""

    __tablename__ = "metrics_deadline_cases"
    __table_args__ = (Index("ix_metrics_deadline_cases_transition", "transition_at"),)

    call_id: uuid.UUID = Field(primary_key=True)
    pcn_code: str
    scope: str
    month: str
    code: str
    before: str
    after: str
    transition_at: datetime = Field(sa_type=UtcDateTime)
    inclusive: bool


class WaitingRow(SQLModel, table=True):
    """A call whose latest decision is an appointment, waiting until `first_starts_at` comes."""

    __tablename__ = "metrics_waiting"
    __table_args__ = (Index("ix_metrics_waiting_first_starts_at", "first_starts_at"),)

    call_id: uuid.UUID = Field(primary_key=True)
    pcn_code: str
    practice_ods: str
    respond_by: datetime = Field(sa_type=UtcDateTime)
    first_starts_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    waitlisted: bool
    waiting_since: datetime | None = Field(default=None, sa_type=UtcDateTime)


KEPT = (PracticeRow, FigureRow, SampleRow, ContributionRow, DeadlineCaseRow, WaitingRow)
KEPT_TABLES = tuple(model.__table__ for model in KEPT)  # type: ignore[union-attr]
