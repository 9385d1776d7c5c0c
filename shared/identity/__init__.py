"""Who is calling: tokens from the OIDC issuer, the organisation directory, roles and access policy."""

from shared.identity.directory import OrganisationDirectory
from shared.identity.policy import AccessPolicy, Forbidden, current_principal, not_found, require_scope
from shared.identity.principal import OrgKind, Principal, Role
from shared.identity.roles import RoleMap
from shared.identity.settings import IdentitySettings
from shared.identity.tokens import IdentityNotConfigured, InvalidToken, NoPlatformRole, TokenVerifier

__all__ = [
    "AccessPolicy",
    "Forbidden",
    "IdentityNotConfigured",
    "IdentitySettings",
    "InvalidToken",
    "NoPlatformRole",
    "OrgKind",
    "OrganisationDirectory",
    "Principal",
    "Role",
    "RoleMap",
    "TokenVerifier",
    "current_principal",
    "not_found",
    "require_scope",
]
