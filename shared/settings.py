"""Settings common to every service; each service subclasses with its own `<SERVICE>_` env prefix.

Any setting may also come from a file (Docker/Kubernetes secrets): in the directory `MHP_SECRETS_DIR`
(default `/run/secrets`, used only if it exists), a file named after the setting's environment variable,
e.g. `triage_rabbitmq_url` or `mhp_session_secret` (case-insensitive). Environment variables win over files.
"""

from __future__ import annotations

import os
import ssl
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

from shared.working_time import BANK_HOLIDAYS_FILE, WorkingCalendar, load_bank_holidays

SECRETS_DIR_ENV = "MHP_SECRETS_DIR"
DEFAULT_SECRETS_DIR = Path("/run/secrets")
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


def secrets_dir() -> Path | None:
    """The directory settings files are read from: `MHP_SECRETS_DIR` or /run/secrets, if it exists."""
    configured = os.environ.get(SECRETS_DIR_ENV)
    path = Path(configured) if configured else DEFAULT_SECRETS_DIR
    return path if path.is_dir() else None


def with_file_secrets(
    settings_cls: type[BaseSettings],
    init_settings: PydanticBaseSettingsSource,
    env_settings: PydanticBaseSettingsSource,
    dotenv_settings: PydanticBaseSettingsSource,
) -> tuple[PydanticBaseSettingsSource, ...]:
    """The sources in priority order: arguments, environment, .env, then files in `secrets_dir()`.

    The directory is looked up when the settings are built (not when the class is defined), so one set in
    the environment by a launcher or a test takes effect.
    """
    directory = secrets_dir()
    if directory is None:
        return init_settings, env_settings, dotenv_settings
    return init_settings, env_settings, dotenv_settings, SecretsSettingsSource(settings_cls, directory)


def _shared_rabbitmq_url() -> str:
    """`RABBITMQ_URL` from the environment, else a `rabbitmq_url` secrets file, else the local broker."""
    from_env = os.environ.get("RABBITMQ_URL")
    if from_env:
        return from_env
    directory = secrets_dir()
    if directory is not None:
        for file in directory.iterdir():
            if file.name.lower() == "rabbitmq_url" and file.is_file():
                return file.read_text(encoding="utf-8").strip()
    return DEFAULT_RABBITMQ_URL


class ServiceSettings(BaseSettings):
    """Read from the environment (or secrets files). `RABBITMQ_URL` is shared by all services unless a
    prefixed one is set.

    TLS: an `amqps://…?cafile=…` broker URL, `sslmode=…` in a PostgreSQL URL, and `http_tls_*` for HTTPS.
    """

    model_config = SettingsConfigDict(extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return with_file_secrets(settings_cls, init_settings, env_settings, dotenv_settings)

    rabbitmq_url: str = Field(
        default_factory=_shared_rabbitmq_url,
        description=(
            "amqp:// or amqps://user:pw@host:5671/vhost?cafile=ca.pem[&certfile=…&keyfile=…] (aiormq reads "
            "cafile, capath, cadata (base64), certfile, keyfile; no_verify_ssl=1 turns verification off)"
        ),
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
    http_tls_certfile: Path | None = Field(
        default=None, description="Serve HTTPS with this certificate (PEM, chain after the leaf)"
    )
    http_tls_keyfile: Path | None = Field(default=None, description="The certificate's private key (PEM)")
    http_tls_ca_certs: Path | None = Field(
        default=None,
        description="CA bundle for client certificates: when set, clients must present one it issued",
    )
    organisation_code: str = "RMH"
    trust_code: str = Field(
        default_factory=lambda: os.environ.get("MHP_TRUST_CODE", "RMH"),
        pattern=r"^[A-Z0-9]{3,5}$",
        description=(
            "The trust's organisation code, shared by every service (`MHP_TRUST_CODE`): consumers accept the "
            "trust's services' events only with producer `<trust>/<service>` (triage and referrals produce "
            "under their organisation_code, which must be this)."
        ),
    )
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

    @field_validator(
        "bank_holidays_file", "http_tls_certfile", "http_tls_keyfile", "http_tls_ca_certs", mode="before"
    )
    @classmethod
    def _empty_means_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @model_validator(mode="after")
    def _tls_pairs(self) -> ServiceSettings:
        if (self.http_tls_certfile is None) != (self.http_tls_keyfile is None):
            raise ValueError("HTTP_TLS_CERTFILE and HTTP_TLS_KEYFILE are set together or not at all")
        if self.http_tls_ca_certs is not None and self.http_tls_certfile is None:
            raise ValueError("HTTP_TLS_CA_CERTS (client certificates) needs HTTP_TLS_CERTFILE/KEYFILE")
        return self

    def uvicorn_tls(self) -> dict[str, Any]:
        """uvicorn.Config's TLS arguments: none for plain HTTP; with a CA, client certificates required."""
        if self.http_tls_certfile is None:
            return {}
        options: dict[str, Any] = {
            "ssl_certfile": str(self.http_tls_certfile),
            "ssl_keyfile": str(self.http_tls_keyfile),
        }
        if self.http_tls_ca_certs is not None:
            options["ssl_ca_certs"] = str(self.http_tls_ca_certs)
            options["ssl_cert_reqs"] = ssl.CERT_REQUIRED
        return options

    def require_trust_producer(self) -> None:
        """The trust's services produce as `<organisation_code>/<service>`: it must be the trust's code."""
        if self.organisation_code != self.trust_code:
            raise ValueError(
                "organisation_code must be the trust's code (MHP_TRUST_CODE): consumers accept the trust's "
                "services' events only from producer <trust>/<service>"
            )

    def working_calendar(self) -> WorkingCalendar:
        holidays = load_bank_holidays(self.bank_holidays_file) if self.bank_holidays_file else frozenset()
        return WorkingCalendar(
            weekdays=frozenset(self.working_weekdays),
            closed_days=holidays | frozenset(self.closed_days),
            timezone=ZoneInfo(self.working_timezone),
        )
