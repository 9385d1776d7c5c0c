"""Triage settings, from `TRIAGE_*` environment variables (JSON for the mappings and lists).

The working calendar (`TRIAGE_WORKING_WEEKDAYS`, `TRIAGE_WORKING_TIMEZONE`, `TRIAGE_BANK_HOLIDAYS_FILE`,
`TRIAGE_CLOSED_DAYS`) is the shared one of `ServiceSettings`; triage adds its opening hours.
"""

import os
from datetime import time
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.triage.adapters.red_flag_file import DEFAULT_RED_FLAGS_FILE, load_red_flags
from services.triage.domain.deadlines import CallbackPolicy, CallbackTarget
from services.triage.domain.out_of_hours import OutOfHoursPolicy
from services.triage.domain.red_flags import RedFlagVocabulary
from shared.contracts.codes import Channel, EscalationTarget
from shared.settings import ServiceSettings
from shared.working_time import WorkingHours


class TriageSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/triage.db"
    http_port: int = 8001
    # The trust's: its events' producer is `<trust>/<service>`, which every consumer checks (MHP_TRUST_CODE).
    organisation_code: str = Field(default_factory=lambda: os.environ.get("MHP_TRUST_CODE", "RMH"))

    # Working hours in which callback targets run (Mon-Fri 08:00-18:30 Europe/London by default).
    working_hours_opens: time = time(8, 0)
    working_hours_closes: time = time(18, 30)
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
    red_flags_file: Path = Field(
        default=DEFAULT_RED_FLAGS_FILE,
        description="The trust's red-flag phrases (YAML; format in the shipped file's header).",
    )
    out_of_hours_route: EscalationTarget = Field(
        default=EscalationTarget.CRISIS_TEAM,
        description="Where a red-flag call arriving out of working hours is escalated at once (or duty_gp).",
    )

    @model_validator(mode="after")
    def _policy_is_valid(self) -> "TriageSettings":
        self.callback_policy()  # fail at start-up, not at the first call
        self.out_of_hours_policy()
        self.red_flags()
        self.require_trust_producer()
        return self

    def working_hours(self) -> WorkingHours:
        return WorkingHours(
            opens=self.working_hours_opens, closes=self.working_hours_closes, calendar=self.working_calendar()
        )

    def callback_policy(self) -> CallbackPolicy:
        return CallbackPolicy(
            hours=self.working_hours(),
            targets={c: CallbackTarget.parse(t) for c, t in self.callback_targets.items()},
            pcn_targets={
                pcn: {c: CallbackTarget.parse(t) for c, t in targets.items()}
                for pcn, targets in self.pcn_callback_targets.items()
            },
        )

    def out_of_hours_policy(self) -> OutOfHoursPolicy:
        return OutOfHoursPolicy(hours=self.working_hours(), route=self.out_of_hours_route)

    def red_flags(self) -> RedFlagVocabulary:
        """The trust's vocabulary, validated: an empty, malformed or over-broad file stops the service."""
        return load_red_flags(self.red_flags_file)
