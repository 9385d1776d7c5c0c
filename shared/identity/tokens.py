"""Bearer JWT -> `Principal`: the services are OAuth 2.0 resource servers of one OIDC issuer.

The signature is checked against the issuer's JWKS with a fixed list of algorithms (never the token's
own `alg`), then issuer, audience, expiry and not-before with a small leeway. Who the caller is then
comes from the claims: a person's selected CIS2 role (national RBAC code at an ODS organisation), mapped
to a platform role by configuration; or a practice system's client id, bound to its practice by the
organisation directory.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping
from typing import Any

import anyio.to_thread
import jwt

from shared.identity.directory import OrganisationDirectory
from shared.identity.principal import OrgKind, Principal, Role
from shared.identity.roles import RoleMap
from shared.identity.settings import IdentitySettings


class InvalidToken(Exception):
    """401: no token, or one that does not prove who is calling. The reason never echoes the token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoPlatformRole(Exception):
    """403: a valid token whose role or organisation has no place on this platform."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IdentityUnavailable(Exception):
    """503: the issuer's keys cannot be fetched just now; the caller may retry."""


class IdentityNotConfigured(RuntimeError):
    pass


_REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "iat"]


class TokenVerifier:
    def __init__(self, settings: IdentitySettings, directory: OrganisationDirectory, roles: RoleMap) -> None:
        if not settings.oidc_issuer:
            raise IdentityNotConfigured("OIDC_ISSUER is not set: the services accept no unauthenticated call")
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.settings = settings
        self.directory = directory
        self.roles = roles
        self._jwks: jwt.PyJWKClient | None = None

    @classmethod
    def from_settings(cls, settings: IdentitySettings) -> TokenVerifier:
        if settings.mhp_organisations_file is None:
            raise IdentityNotConfigured("MHP_ORGANISATIONS_FILE is not set: no organisation can be scoped")
        return cls(
            settings,
            OrganisationDirectory.load(settings.mhp_organisations_file),
            RoleMap.load(settings.mhp_role_map_file),
        )

    def _jwks_client(self) -> jwt.PyJWKClient:
        # Resolved lazily (the provider may start after the service); PyJWKClient caches the key set and
        # refetches it when a token names a key id it has not seen (key rotation).
        if self._jwks is None:
            url = self.settings.oidc_jwks_url or _discover_jwks_uri(self.issuer)
            self._jwks = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)
        return self._jwks

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            key = self._jwks_client().get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=self.settings.oidc_algorithms,
                audience=self.settings.oidc_audience,
                issuer=self.issuer,
                leeway=self.settings.oidc_leeway_seconds,
                options={"require": _REQUIRED_CLAIMS, "verify_nbf": True},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("the token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("the token is not for this platform (audience)") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("the token is from another issuer") from None
        except jwt.PyJWKClientConnectionError:
            raise IdentityUnavailable from None
        except (jwt.PyJWKClientError, jwt.InvalidSignatureError):
            raise InvalidToken("the token's signature does not verify") from None
        except jwt.PyJWTError:
            raise InvalidToken("the token is malformed or incomplete") from None
        return claims

    async def verify(self, token: str) -> Principal:
        # PyJWKClient fetches keys with blocking urllib: keep it off the event loop.
        claims = await anyio.to_thread.run_sync(self._decode, token)
        return self.principal_of(claims)

    def principal_of(self, claims: Mapping[str, Any]) -> Principal:
        subject = str(claims["sub"])
        if "selected_roleid" not in claims:
            return self._system(subject, claims)
        selected = _selected_role(claims)
        org_code = str(selected.get("org_code", ""))
        org_kind = self.directory.kind_of(org_code)
        if org_kind is None:
            raise NoPlatformRole("the selected role's organisation is not in this trust's directory")
        role = self.roles.platform_role(str(selected.get("role_code", "")), org_kind)
        if role is None:
            raise NoPlatformRole("the selected role has no access to this platform")
        return self._principal(subject, str(claims.get("name") or subject), role, org_code, org_kind)

    def _system(self, client_id: str, claims: Mapping[str, Any]) -> Principal:
        if claims.get("client_id", client_id) != client_id:
            raise InvalidToken("a client-credentials token's subject must be its client")
        practice = self.directory.systems.get(client_id)
        if practice is None:
            raise NoPlatformRole("this application is not a registered practice system")
        return self._principal(client_id, client_id, Role.PRACTICE_SYSTEM, practice, OrgKind.PRACTICE, True)

    def _principal(
        self, user_id: str, name: str, role: Role, org_code: str, kind: OrgKind, is_system: bool = False
    ) -> Principal:
        pcn = {OrgKind.TRUST: None, OrgKind.PCN: org_code, OrgKind.PRACTICE: self.directory.pcn_of(org_code)}
        return Principal(
            user_id=user_id,
            name=name,
            role=role,
            org_code=org_code,
            org_kind=kind,
            pcn_code=pcn[kind],
            is_system=is_system,
            trust_pcns=frozenset(self.directory.pcns),
            pcn_practices=self.directory.pcns,
        )


def _selected_role(claims: Mapping[str, Any]) -> Mapping[str, Any]:
    roles = claims.get("nhsid_nrbac_roles")
    if not isinstance(roles, list):
        raise NoPlatformRole("the token carries no national RBAC roles")
    for entry in roles:
        if isinstance(entry, dict) and entry.get("person_roleid") == claims["selected_roleid"]:
            return entry
    raise NoPlatformRole("the selected role is not one of the person's roles")


def _discover_jwks_uri(issuer: str) -> str:
    url = f"{issuer}/.well-known/openid-configuration"
    if not url.startswith(("https://", "http://")):
        raise InvalidToken("the identity provider's address is not http(s)")
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (scheme checked above)
            document = json.load(response)
    except (OSError, ValueError):
        raise IdentityUnavailable from None
    if document.get("issuer", "").rstrip("/") != issuer:
        raise InvalidToken("the identity provider's discovery document names another issuer")
    return str(document["jwks_uri"])
