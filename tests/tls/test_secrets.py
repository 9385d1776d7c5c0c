"""Settings from secrets files in `MHP_SECRETS_DIR` (default /run/secrets): one file per variable."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import shared.settings
from services.booking.settings import BookingSettings
from services.triage.settings import TriageSettings
from shared.identity.settings import IdentitySettings
from shared.settings import DEFAULT_RABBITMQ_URL

CLEARED = (
    "RABBITMQ_URL",
    "TRIAGE_RABBITMQ_URL",
    "TRIAGE_DATABASE_URL",
    "BOOKING_DATABASE_URL",
    "MHP_SESSION_SECRET",
    "MHP_SECRETS_DIR",
)


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    directory = tmp_path / "secrets"
    directory.mkdir()
    monkeypatch.setenv("MHP_SECRETS_DIR", str(directory))
    return directory


def _secret(directory: Path, name: str, value: str) -> None:
    (directory / name).write_text(value + "\n")  # a trailing newline, as `echo … > file` leaves


def test_a_services_settings_come_from_files_named_after_its_prefixed_variables(secrets: Path) -> None:
    _secret(secrets, "triage_rabbitmq_url", "amqps://mhp-triage:from-file@rabbitmq:5671/mhp?cafile=/ca.pem")
    _secret(secrets, "TRIAGE_DATABASE_URL", "postgresql://triage:from-file@postgres/triage")  # any case
    _secret(secrets, "booking_database_url", "postgresql://booking:other@postgres/booking")
    settings = TriageSettings()
    assert settings.rabbitmq_url == "amqps://mhp-triage:from-file@rabbitmq:5671/mhp?cafile=/ca.pem"
    assert settings.database_url == "postgresql://triage:from-file@postgres/triage"
    assert BookingSettings().database_url == "postgresql://booking:other@postgres/booking"


def test_environment_variables_win_over_files(secrets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _secret(secrets, "triage_database_url", "postgresql://triage:from-file@postgres/triage")
    _secret(secrets, "mhp_session_secret", "from-file")
    monkeypatch.setenv("TRIAGE_DATABASE_URL", "postgresql://triage:from-env@postgres/triage")
    monkeypatch.setenv("MHP_SESSION_SECRET", "from-env")
    assert TriageSettings().database_url == "postgresql://triage:from-env@postgres/triage"
    assert IdentitySettings().mhp_session_secret == "from-env"


def test_identity_settings_come_from_unprefixed_files(secrets: Path) -> None:
    _secret(secrets, "mhp_session_secret", "s3cret-from-a-file")
    assert IdentitySettings().mhp_session_secret == "s3cret-from-a-file"


def test_the_shared_broker_url_comes_from_rabbitmq_url_the_variable_then_the_file(
    secrets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert TriageSettings().rabbitmq_url == DEFAULT_RABBITMQ_URL
    _secret(secrets, "rabbitmq_url", "amqps://shared:from-file@rabbitmq:5671/")
    assert TriageSettings().rabbitmq_url == "amqps://shared:from-file@rabbitmq:5671/"
    monkeypatch.setenv("RABBITMQ_URL", "amqp://shared:from-env@rabbitmq:5672/")
    assert TriageSettings().rabbitmq_url == "amqp://shared:from-env@rabbitmq:5672/"
    # The service's own setting is more specific than the shared one, whether a variable or a file.
    _secret(secrets, "triage_rabbitmq_url", "amqps://mhp-triage:own@rabbitmq:5671/")
    assert TriageSettings().rabbitmq_url == "amqps://mhp-triage:own@rabbitmq:5671/"


def test_run_secrets_is_the_default_and_a_missing_directory_is_no_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    run_secrets = tmp_path / "run-secrets"
    monkeypatch.setattr(shared.settings, "DEFAULT_SECRETS_DIR", run_secrets)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pydantic-settings warns about a secrets_dir that does not exist
        assert TriageSettings().database_url == "sqlite+aiosqlite:///var/triage.db"
        monkeypatch.setenv("MHP_SECRETS_DIR", str(tmp_path / "nowhere"))
        assert IdentitySettings().mhp_session_secret is None
    monkeypatch.delenv("MHP_SECRETS_DIR")
    run_secrets.mkdir()
    _secret(run_secrets, "triage_database_url", "postgresql://triage:from-run-secrets@postgres/triage")
    assert TriageSettings().database_url == "postgresql://triage:from-run-secrets@postgres/triage"
