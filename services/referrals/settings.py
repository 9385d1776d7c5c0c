"""Referrals settings, from `REFERRALS_*` environment variables (JSON for lists)."""

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.referrals import domain
from services.referrals.directory import EXAMPLE_PATH, Directory, load_directory
from shared.settings import ServiceSettings


class ReferralsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRALS_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/referrals.db"
    http_port: int = 8003
    organisation_code: str = "RMH"

    directory_path: Path = Field(
        default=EXAMPLE_PATH, description="The trust's referral directory file (YAML or JSON)."
    )
    chase_after_working_days: int = Field(
        default=5,
        ge=1,
        description="A referral unanswered this long is escalated once (referral_unanswered).",
    )
    dna_follow_up_working_days: int = Field(
        default=2, ge=1, description="Working days to attempt contact after a DNA before it is escalated."
    )
    working_weekdays: list[int] = Field(default=[0, 1, 2, 3, 4], description="Monday = 0")
    working_timezone: str = "Europe/London"
    closed_days: list[date] = Field(default=[], description="Bank holidays: not working days")
    watchdog_interval_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _valid_at_start(self) -> "ReferralsSettings":
        self.working_days()
        return self

    def working_days(self) -> domain.WorkingDays:
        return domain.WorkingDays(
            weekdays=frozenset(self.working_weekdays),
            closed_days=frozenset(self.closed_days),
            timezone=ZoneInfo(self.working_timezone),
        )

    def directory(self) -> Directory:
        """Load and validate the directory file (raises DirectoryError naming what is wrong)."""
        return load_directory(self.directory_path)
