"""Metrics settings, from `METRICS_*` environment variables."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class MetricsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRICS_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/metrics.db"
    http_port: int = 8004
    organisation_code: str = "RMH"
    live_feed_max_connections: int = Field(
        default=50,
        ge=1,
        le=10_000,
        description="Open `/live` streams one process serves; the next gets 503 with Retry-After",
    )
