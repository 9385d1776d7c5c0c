"""Identity settings every service shares (no service prefix: one issuer, audience and directory)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from shared.identity.roles import DEFAULT_ROLE_MAP
from shared.settings import with_file_secrets

# Asymmetric algorithms only: an HMAC algorithm would let anyone holding the public key sign tokens.
ALLOWED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"})


class IdentitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Also from files in MHP_SECRETS_DIR (default /run/secrets): `mhp_session_secret`, `oidc_issuer`…
        return with_file_secrets(settings_cls, init_settings, env_settings, dotenv_settings)

    oidc_issuer: str | None = Field(
        default=None, description="The OIDC issuer whose tokens the services accept (CIS2 or the trust's)"
    )
    oidc_audience: str = Field(default="mhp-platform", description="The `aud` every token must carry")
    oidc_jwks_url: str | None = Field(default=None, description="Default: the issuer's discovery document")
    oidc_algorithms: list[str] = Field(default=["RS256", "RS512"])
    oidc_leeway_seconds: int = Field(default=30, ge=0, le=120, description="Clock skew allowed on exp/nbf")
    oidc_client_id: str = Field(default="mhp-web", description="This platform's web client at the issuer")
    mhp_session_secret: str | None = Field(
        default=None,
        description="Signs the short-lived sign-in cookie; set one shared value when replicas run behind a "
        "load balancer (default: a random value per process)",
    )
    mhp_organisations_file: Path | None = Field(default=None, description="The trust's organisations")
    mhp_role_map_file: Path = Field(default=DEFAULT_ROLE_MAP)

    @field_validator(
        "oidc_issuer", "oidc_jwks_url", "mhp_session_secret", "mhp_organisations_file", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # Compose and ConfigMaps pass an unset variable as "": that means "not configured", never a URL.
        return None if value == "" else value

    @field_validator("oidc_algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        refused = sorted(set(value) - ALLOWED_ALGORITHMS)
        if refused or not value:
            raise ValueError(f"OIDC_ALGORITHMS: only {sorted(ALLOWED_ALGORITHMS)} (refused: {refused})")
        return value
