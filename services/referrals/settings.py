"""Referrals settings, from `REFERRALS_*` environment variables (JSON for lists).

The working calendar (`REFERRALS_WORKING_WEEKDAYS`, `REFERRALS_CLOSED_DAYS`, `REFERRALS_BANK_HOLIDAYS_FILE`,
`REFERRALS_WORKING_TIMEZONE`) is the shared one of `ServiceSettings`.
"""

import os
from datetime import time
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.referrals.adapters.directory_file import EXAMPLE_PATH, load_directory
from services.referrals.domain.deadlines import Deadlines
from services.referrals.domain.directory import Directory
from services.referrals.domain.follow_up_urgency import FollowUpPolicy
from shared.contracts.codes import TriageCode
from shared.settings import ServiceSettings
from shared.working_time import WorkingHours


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

    @model_validator(mode="after")
    def _valid_at_start(self) -> "ReferralsSettings":
        self.working_calendar()  # e.g. no working weekdays: refused before anything starts
        self.follow_up_policy()  # e.g. a code both same-day and next-day
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

    def directory(self) -> Directory:
        """Load and validate the directory file (raises DirectoryError naming what is wrong)."""
        return load_directory(self.directory_path)
