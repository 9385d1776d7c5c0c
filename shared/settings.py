"""Settings common to every service; each service subclasses with its own `<SERVICE>_` env prefix."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.working_time import BANK_HOLIDAYS_FILE, WorkingCalendar, load_bank_holidays


class ServiceSettings(BaseSettings):
    """Read from the environment. `RABBITMQ_URL` is shared by all services unless a prefixed one is set."""

    model_config = SettingsConfigDict(extra="ignore")

    rabbitmq_url: str = Field(
        default_factory=lambda: os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
    )
    broker_user: str | None = Field(
        default=None,
        description=(
            "The broker user this service publishes as (AMQP user_id, which RabbitMQ checks against the "
            "login): `mhp-<service>` unless set, e.g. `mhp-booking-u00123` for a booking confined to a PCN."
        ),
    )
    database_url: str = "sqlite+aiosqlite:///var/service.db"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    organisation_code: str = "RMH"
    log_level: str = "INFO"
    log_json: bool | None = None
    prefetch: int = Field(default=32, ge=1, le=1000)
    delivery_limit: int = Field(default=10, ge=5)
    handler_timeout_seconds: float = Field(default=30.0, gt=0)
    """A handler that takes longer is abandoned (rolled back) and the delivery retried."""
    consumer_stuck_seconds: float = Field(default=120.0, gt=0)
    """`/health/ready` fails while a delivery has been in processing for longer than this."""
    relay_batch_size: int = Field(default=200, ge=1)
    relay_poll_seconds: float = Field(default=1.0, gt=0)
    relay_lease_seconds: float = Field(default=30.0, gt=0)
    declare_topology: bool = Field(
        default=True,
        description=(
            "Declare the exchanges and this service's queues at start-up. Set false where ops provision the "
            "broker from deploy/rabbitmq/definitions.json: the service then needs no configure permission "
            "and only checks that its queues exist."
        ),
    )

    # The working calendar, configured once here for every service that counts working time.
    working_weekdays: list[int] = Field(default=[0, 1, 2, 3, 4], description="Monday = 0")
    working_timezone: str = "Europe/London"
    bank_holidays_file: Path | None = Field(
        default=BANK_HOLIDAYS_FILE,
        description="GOV.UK bank-holidays.json shape; the default ships England and Wales. Empty for none.",
    )
    closed_days: list[date] = Field(default=[], description="Extra closed days beside the bank holidays")

    @field_validator("bank_holidays_file", mode="before")
    @classmethod
    def _empty_means_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    def working_calendar(self) -> WorkingCalendar:
        holidays = load_bank_holidays(self.bank_holidays_file) if self.bank_holidays_file else frozenset()
        return WorkingCalendar(
            weekdays=frozenset(self.working_weekdays),
            closed_days=holidays | frozenset(self.closed_days),
            timezone=ZoneInfo(self.working_timezone),
        )
