"""Triage settings, from `TRIAGE_*` environment variables (JSON for the mappings and lists)."""

from datetime import date, time
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.triage import domain
from shared.contracts.codes import Channel
from shared.settings import ServiceSettings


class TriageSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/triage.db"
    http_port: int = 8001
    organisation_code: str = "RMH"

    # Working hours in which callback targets run (Mon-Fri 08:00-18:30 Europe/London by default).
    working_hours_opens: time = time(8, 0)
    working_hours_closes: time = time(18, 30)
    working_weekdays: list[int] = Field(default=[0, 1, 2, 3, 4], description="Monday = 0")
    working_timezone: str = "Europe/London"
    closed_days: list[date] = Field(default=[], description="Bank holidays: no working time")
    # Callback targets per channel (`2h`, `90m`, `1d`); per-PCN overrides: {"U00123": {"telephone": "1h"}}.
    callback_targets: dict[Channel, str] = Field(
        default={
            Channel.TELEPHONE: "2h",
            Channel.WALK_IN: "2h",
            Channel.E_CONSULTATION: "1d",
            Channel.GP_TASK: "1d",
            Channel.DIRECT_BOOKING: "1d",
        }
    )
    pcn_callback_targets: dict[str, dict[Channel, str]] = Field(default={})
    watchdog_interval_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _policy_is_valid(self) -> "TriageSettings":
        self.callback_policy()  # fail at start-up, not at the first call
        return self

    def callback_policy(self) -> domain.CallbackPolicy:
        hours = domain.WorkingHours(
            opens=self.working_hours_opens,
            closes=self.working_hours_closes,
            weekdays=frozenset(self.working_weekdays),
            timezone=ZoneInfo(self.working_timezone),
            closed_days=frozenset(self.closed_days),
        )
        return domain.CallbackPolicy(
            hours=hours,
            targets={c: domain.CallbackTarget.parse(t) for c, t in self.callback_targets.items()},
            pcn_targets={
                pcn: {c: domain.CallbackTarget.parse(t) for c, t in targets.items()}
                for pcn, targets in self.pcn_callback_targets.items()
            },
        )
