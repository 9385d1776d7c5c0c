"""Booking settings, from `BOOKING_*` environment variables."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


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
