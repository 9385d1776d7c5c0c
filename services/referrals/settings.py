"""Referrals settings, from `REFERRALS_*` environment variables (JSON for lists).

The working calendar (`REFERRALS_WORKING_WEEKDAYS`, `REFERRALS_CLOSED_DAYS`, `REFERRALS_BANK_HOLIDAYS_FILE`,
`REFERRALS_WORKING_TIMEZONE`) is the shared one of `ServiceSettings`.
"""

import os
from datetime import time
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.referrals.adapters.directory_file import EXAMPLE_PATH, load_directory
from services.referrals.domain.deadlines import Deadlines
from services.referrals.domain.directory import Directory
from services.referrals.domain.escalation_policy import (
    DEFAULT_ACKNOWLEDGE_WITHIN,
    DEFAULT_BY_REASON,
    DEFAULT_LADDERS,
    EscalationPolicy,
    Within,
)
from services.referrals.domain.follow_up_urgency import FollowUpPolicy
from shared.contracts.codes import EscalationReason, EscalationTarget, TriageCode
from shared.settings import ServiceSettings
from shared.working_time import WorkingHours

AckWithin = int | Literal["end_of_working_day"]
"""Minutes (wall clock) to acknowledge an escalation, or the close of the working day."""


K = TypeVar("K")


def _within(configured: dict[K, AckWithin]) -> dict[K, Within]:
    return {
        key: Within(None if value == Within.END_OF_WORKING_DAY else int(value))
        for key, value in configured.items()
    }


class ReferralsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRALS_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/referrals.db"
    http_port: int = 8003
    # The trust's: its events' producer is `<trust>/<service>`, which every consumer checks (MHP_TRUST_CODE).
    organisation_code: str = Field(default_factory=lambda: os.environ.get("MHP_TRUST_CODE", "RMH"))

    directory_path: Path = Field(
        default=EXAMPLE_PATH, description="The trust's referral directory file (YAML or JSON)."
    )
    chase_after_working_days: int = Field(
        default=5,
        ge=1,
        description="A referral unanswered this long is escalated once (referral_unanswered).",
    )
    dna_follow_up_working_days: int = Field(
        default=2,
        ge=1,
        description="Working days to attempt contact after a routine case's DNA before it is escalated.",
    )
    # Risk carried to follow-up: a missed appointment (DNA or patient cancellation) by the case's triage code.
    dna_same_day_codes: list[TriageCode] = Field(
        default=[TriageCode.A, TriageCode.B, TriageCode.C],
        description="Followed up by the close of the working day, the clinical lead told at the first miss.",
    )
    dna_same_day_min_working_minutes: int = Field(
        default=120, ge=0, description="A same-day follow-up is never due sooner than this (working time)."
    )
    dna_next_day_codes: list[TriageCode] = Field(
        default=[TriageCode.D], description="Followed up by the same time on the next working day."
    )
    # Working hours a same-day follow-up runs in (Mon-Fri 08:00-18:30 Europe/London by default).
    working_hours_opens: time = time(8, 0)
    working_hours_closes: time = time(18, 30)
    watchdog_interval_seconds: float = Field(default=30.0, gt=0)
    # Escalations as owned work (JSON mappings; each key given replaces the default for it).
    escalation_acknowledge_within: dict[EscalationTarget, AckWithin] = Field(
        default={},
        description="Minutes to acknowledge, or end_of_working_day, by target (defaults: 999 and crisis 15, "
        "duty GP and GP 60, clinical lead end_of_working_day, trust duty manager 60, platform operator 30).",
    )
    escalation_acknowledge_within_by_reason: dict[EscalationReason, AckWithin] = Field(
        default={},
        description="A reason's deadline replaces the target's at every rung (default: red_flag_out_of_hours "
        "15).",
    )
    escalation_ladders: dict[EscalationTarget, list[EscalationTarget]] = Field(
        default={},
        description="By the first target, the owners an unacknowledged escalation climbs to; each ends at "
        "trust_duty_manager (default: clinical lead -> duty GP -> trust; duty GP and GP -> clinical lead -> "
        "trust; crisis, 999 and platform operator -> trust).",
    )

    @model_validator(mode="after")
    def _valid_at_start(self) -> "ReferralsSettings":
        self.working_calendar()  # e.g. no working weekdays: refused before anything starts
        self.follow_up_policy()  # e.g. a code both same-day and next-day
        self.escalation_policy()  # e.g. a ladder that never reaches the trust
        self.require_trust_producer()
        return self

    def deadlines(self) -> Deadlines:
        return Deadlines(
            calendar=self.working_calendar(),
            chase_after_working_days=self.chase_after_working_days,
            dna_follow_up_working_days=self.dna_follow_up_working_days,
        )

    def working_hours(self) -> WorkingHours:
        return WorkingHours(
            opens=self.working_hours_opens, closes=self.working_hours_closes, calendar=self.working_calendar()
        )

    def follow_up_policy(self) -> FollowUpPolicy:
        return FollowUpPolicy(
            hours=self.working_hours(),
            same_day_codes=frozenset(self.dna_same_day_codes),
            same_day_min_working_minutes=self.dna_same_day_min_working_minutes,
            next_day_codes=frozenset(self.dna_next_day_codes),
            routine_working_days=self.dna_follow_up_working_days,
        )

    def escalation_policy(self) -> EscalationPolicy:
        return EscalationPolicy(
            hours=self.working_hours(),
            acknowledge_within={**DEFAULT_ACKNOWLEDGE_WITHIN, **_within(self.escalation_acknowledge_within)},
            by_reason={**DEFAULT_BY_REASON, **_within(self.escalation_acknowledge_within_by_reason)},
            ladders={**DEFAULT_LADDERS, **{k: tuple(v) for k, v in self.escalation_ladders.items()}},
        )

    def directory(self) -> Directory:
        """Load and validate the directory file (raises DirectoryError naming what is wrong)."""
        return load_directory(self.directory_path)
