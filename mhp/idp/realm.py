"""The demo realm (`realm.yaml`): public clients, people with one national RBAC role each, and the
practice systems of the organisation directory; plus choosing the demo user for a platform role."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field

from shared.identity.directory import OrganisationDirectory
from shared.identity.principal import Role
from shared.identity.roles import DEFAULT_ROLE_MAP, RoleMap, job_role

DEFAULT_REALM = Path(__file__).resolve().parent / "realm.yaml"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
# Client ids name key files: never a path separator or a leading dot.
CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


class RealmError(ValueError):
    pass


class _Client(BaseModel):
    model_config = ConfigDict(extra="forbid")
    redirect_uris: list[str] = Field(min_length=1)


class _User(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    name: str
    role_code: str
    org: str
    person_roleid: str | None = None


class _RealmFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organisations: Path
    role_names: dict[str, str] = Field(default_factory=dict)
    clients: dict[str, _Client]
    users: list[_User]


@dataclass(frozen=True)
class DemoUser:
    id: str
    name: str
    role_code: str
    role_name: str
    org_code: str
    org_name: str
    person_roleid: str

    def role_claim(self) -> dict[str, str]:
        """This person's entry of `nhsid_nrbac_roles` (the CIS2 shape the platform reads)."""
        return {
            "person_roleid": self.person_roleid,
            "org_code": self.org_code,
            "role_code": self.role_code,
            "role_name": self.role_name,
        }


@dataclass(frozen=True)
class PublicClient:
    client_id: str
    redirect_uris: tuple[str, ...]

    def allows_redirect(self, uri: str) -> bool:
        """Exactly a registered URI; or, for a loopback URI registered without a port, any port
        (RFC 8252 section 7.3: native apps and local services listen on a port chosen at run time)."""
        if uri in self.redirect_uris:
            return True
        try:
            asked = urlsplit(uri)
            port = asked.port
        except ValueError:
            return False
        if asked.scheme != "http" or asked.hostname is None or port is None or asked.fragment:
            return False
        bare = asked._replace(netloc=asked.netloc.rsplit(":", 1)[0]).geturl()
        registered = (urlsplit(r) for r in self.redirect_uris if r == bare)
        return any(r.port is None and r.netloc in LOOPBACK_HOSTS for r in registered)


def _person_roleid(user_id: str) -> str:
    # Stable across restarts (tokens and audit rows of one demo run keep meaning the same role).
    return str(int(hashlib.sha256(user_id.encode()).hexdigest(), 16))[:12]


@dataclass(frozen=True)
class Realm:
    clients: Mapping[str, PublicClient]
    users: Mapping[str, DemoUser]
    systems: Mapping[str, str]
    """Practice system client id -> the practice ODS code it acts for."""
    directory: OrganisationDirectory
    roles: RoleMap

    @classmethod
    def load(
        cls,
        path: Path = DEFAULT_REALM,
        *,
        organisations: Path | None = None,
        role_map: Path | None = None,
    ) -> Realm:
        """Read the realm; `organisations` overrides the realm's own directory file, `role_map` the
        role map (default `MHP_ROLE_MAP_FILE`, else the shipped one)."""
        try:
            parsed = _RealmFile.model_validate(yaml.safe_load(path.read_text()))
        except (OSError, yaml.YAMLError, ValueError) as exc:
            raise RealmError(f"realm {path}: {exc}") from None
        directory = OrganisationDirectory.load(organisations or (path.parent / parsed.organisations))
        roles = RoleMap.load(role_map or Path(os.environ.get("MHP_ROLE_MAP_FILE") or DEFAULT_ROLE_MAP))
        users: dict[str, DemoUser] = {}
        for user in parsed.users:
            if user.id in users:
                raise RealmError(f"realm {path}: user {user.id} is listed twice")
            if directory.kind_of(user.org) is None:
                raise RealmError(f"realm {path}: user {user.id} is at {user.org}, not in the directory")
            code = job_role(user.role_code)
            users[user.id] = DemoUser(
                id=user.id,
                name=user.name,
                role_code=user.role_code,
                role_name=parsed.role_names.get(code, code),
                org_code=user.org,
                org_name=directory.names.get(user.org, user.org),
                person_roleid=user.person_roleid or _person_roleid(user.id),
            )
        clients = {cid: PublicClient(cid, tuple(c.redirect_uris)) for cid, c in parsed.clients.items()}
        for client_id in [*clients, *directory.systems]:
            if not CLIENT_ID.match(client_id):
                raise RealmError(f"realm {path}: client id {client_id!r} is not a plain name")
        if set(clients) & set(directory.systems):
            raise RealmError(f"realm {path}: a client id is both a public client and a system")
        return cls(
            clients=clients, users=users, systems=dict(directory.systems), directory=directory, roles=roles
        )

    def platform_role(self, user: DemoUser) -> Role | None:
        kind = self.directory.kind_of(user.org_code)
        return None if kind is None else self.roles.platform_role(user.role_code, kind)

    def system_for(self, practice_ods: str) -> str:
        """The client id of the practice system acting for `practice_ods`."""
        for client_id, practice in self.systems.items():
            if practice == practice_ods:
                return client_id
        raise LookupError(f"no practice system of the demo realm acts for {practice_ods}")


def find_user(realm: Realm, role: Role | str, org: str) -> DemoUser:
    """The first demo user whose national role maps to platform `role` at organisation `org` (ODS)."""
    wanted = Role(role)
    if wanted is Role.PRACTICE_SYSTEM:
        raise LookupError("a practice system is not a person: use Realm.system_for(practice)")
    for user in realm.users.values():
        if user.org_code == org and realm.platform_role(user) is wanted:
            return user
    raise LookupError(f"no demo user is {wanted.value} at {org}")
