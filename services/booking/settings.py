"""Booking settings, from `BOOKING_*` environment variables."""

from datetime import timedelta

from pydantic import Field, PositiveInt, field_validator
from pydantic_settings import SettingsConfigDict

from services.booking.domain.case_watch import (
    DEFAULT_REESCALATE_EVERY,
    DEFAULT_REESCALATE_OTHERWISE,
    CaseWatchPolicy,
)
from shared.contracts.codes import TriageCode
from shared.settings import ServiceSettings

NO_CODE = "other"
"""The re-escalation key for a waiting case without a triage code (a rebooked direct booking, a follow-up)."""
DEFAULT_REESCALATE_MINUTES = {
    **{code.value: every // timedelta(minutes=1) for code, every in DEFAULT_REESCALATE_EVERY.items()},
    NO_CODE: DEFAULT_REESCALATE_OTHERWISE // timedelta(minutes=1),
}


class BookingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BOOKING_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/booking.db"
    http_port: int = 8002
    organisation_code: str = "PCN"
    direct_bookings_per_week: int = Field(
        default=10, ge=0, description="Default agreed weekly volume of direct bookings per practice."
    )
    attendance_review_after_minutes: int = Field(
        default=120, ge=0, description="A still-booked appointment this long after its end needs review."
    )
    rebook_window_days: int = Field(
        default=7, ge=1, description="How far a provider-cancelled appointment without a deadline may move."
    )
    urgent_share: float = Field(
        default=0.4,
        ge=0,
        le=1,
        description="Share of each session's clinical slots (its first ones) held for urgent (C/D) cases.",
    )
    urgent_hold_hours: float = Field(
        default=24, ge=0, description="Held slots are released to routine cases this long before the session."
    )
    urgent_demand_look_ahead_hours: float = Field(
        default=72,
        ge=0,
        description="Urgent demand is weighed against free slots this far ahead; a routine case starts its"
        " search as far into it as that demand needs (0: routine cases book the earliest slot).",
    )
    urgent_demand_rate_days: int = Field(
        default=7, ge=1, description="The recent urgent arrival rate is counted over this many days."
    )
    waitlist_reescalate_minutes: dict[str, PositiveInt] = Field(
        default_factory=lambda: dict(DEFAULT_REESCALATE_MINUTES),
        description=(
            "How often a waiting case is re-escalated until it is booked, by UK MHTS code (C, D, E) and"
            f" '{NO_CODE}' for a case without one; JSON, keys given replace those defaults."
        ),
    )
    watchdog_interval_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often the case watchdog looks for waiting cases and missing outcomes.",
    )

    @field_validator("waitlist_reescalate_minutes")
    @classmethod
    def _known_keys(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(DEFAULT_REESCALATE_MINUTES))
        if unknown:
            raise ValueError(f"unknown keys {unknown}: expected some of {sorted(DEFAULT_REESCALATE_MINUTES)}")
        return {**DEFAULT_REESCALATE_MINUTES, **value}

    def case_watch_policy(self) -> CaseWatchPolicy:
        minutes = self.waitlist_reescalate_minutes
        return CaseWatchPolicy(
            reescalate_every={
                TriageCode(key): timedelta(minutes=every) for key, every in minutes.items() if key != NO_CODE
            },
            otherwise=timedelta(minutes=minutes[NO_CODE]),
        )
