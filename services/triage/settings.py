"""Triage settings, from `TRIAGE_*` environment variables."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class TriageSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/triage.db"
    http_port: int = 8001
    organisation_code: str = "RMH"
