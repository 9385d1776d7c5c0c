"""`mhp token`: a bearer token from the running demo provider for a platform role at an organisation,
or for a named demo user; a practice system signs its client assertion with its key in the state dir."""

from __future__ import annotations

from pathlib import Path

from mhp.idp.client import IdentityProviderError, system_token, user_token
from mhp.idp.keys import client_key_path
from mhp.idp.realm import DEFAULT_REALM, DemoUser, Realm, RealmError, find_user
from shared.identity.principal import Role


class TokenCommandError(Exception):
    """What to tell the operator; the command exits non-zero."""


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise TokenCommandError(
            f"unknown role {value!r}; one of: {', '.join(r.value for r in Role)}"
        ) from None


def _person(realm: Realm, role: Role | None, org: str | None, user_id: str | None) -> DemoUser:
    if user_id is not None:
        user = realm.users.get(user_id)
        if user is None:
            raise TokenCommandError(f"no demo user {user_id!r} in the realm")
        if role is not None and realm.platform_role(user) is not role:
            raise TokenCommandError(f"demo user {user_id} is not {role.value}")
        if org is not None and user.org_code != org:
            raise TokenCommandError(f"demo user {user_id} is at {user.org_code}, not {org}")
        return user
    if role is None or org is None:
        raise TokenCommandError("give --role and --org (or --user)")
    try:
        return find_user(realm, role, org)
    except LookupError as exc:
        raise TokenCommandError(str(exc)) from None


def demo_token(
    *,
    role: str | None,
    org: str | None,
    user_id: str | None,
    issuer: str,
    state_dir: Path,
    realm_path: Path = DEFAULT_REALM,
) -> str:
    try:
        realm = Realm.load(realm_path)
    except (RealmError, ValueError) as exc:
        raise TokenCommandError(str(exc)) from None
    wanted = _role(role) if role is not None else None
    try:
        if wanted is Role.PRACTICE_SYSTEM and user_id is None:
            if org is None:
                raise TokenCommandError("give --org: the practice whose system acts")
            try:
                client_id = realm.system_for(org)
            except LookupError as exc:
                raise TokenCommandError(str(exc)) from None
            key = client_key_path(state_dir, client_id)
            if not key.exists():
                raise TokenCommandError(
                    f"no key for {client_id} at {key}: is the provider running with this state dir "
                    "(--state-dir, MHP_IDP_STATE_DIR)?"
                )
            return system_token(issuer, client_id, key)
        return user_token(issuer, _person(realm, wanted, org, user_id).id)
    except IdentityProviderError as exc:
        raise TokenCommandError(str(exc)) from None
