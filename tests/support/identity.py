"""Bearer tokens for tests, from the real embedded OIDC provider (code + PKCE for people, signed client
credentials for practice systems), cached per session: every test acts as a named demo user or system.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jwt

from mhp.idp.client import system_token, user_token
from mhp.idp.keys import generate_key, signing_key

REMINT_AFTER_SECONDS = 600
DEMO_ORGANISATIONS = Path(__file__).resolve().parents[2] / "mhp" / "data" / "demo-organisations.yaml"

# Demo users by role (the realm of mhp/idp/realm.yaml).
MHP = "mhp.ahmed"
MHP_2 = "mhp.brown"
OTHER_PCN_MHP = "mhp.clarke"  # an MHP of U00456
LEAD = "lead.y01234"
OTHER_LEAD = "lead.y01235"
STAFF = "staff.y01234"
PCN_MANAGER = "manager.u00123"
OTHER_PCN_MANAGER = "manager.u00456"
TRUST_MANAGER = "trust.manager"
IG_LEAD = "ig.lead"
OPERATOR = "ops.operator"


USER_FOR_ROLE = {
    "mhp": MHP,
    "clinical_lead": LEAD,
    "practice_staff": STAFF,
    "pcn_manager": PCN_MANAGER,
    "trust_manager": TRUST_MANAGER,
    "ig_lead": IG_LEAD,
    "operator": OPERATOR,
}
"""A demo user for every role of a person (all in PCN U00123 or practice Y01234, or the trust)."""


def system_of(practice_ods: str) -> str:
    return f"{practice_ods.lower()}-clinical-system"


@dataclass
class Tokens:
    """Mints (once) and hands out `Authorization` headers for demo users and practice systems."""

    issuer: str
    state_dir: Path
    _cache: dict[str, tuple[float, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _cached(self, name: str, mint: Callable[[], str]) -> str:
        # Tokens live 15 minutes; a long run mints again well before one expires.
        with self._lock:
            minted = self._cache.get(name)
            if minted is None or time.monotonic() - minted[0] > REMINT_AFTER_SECONDS:
                minted = (time.monotonic(), mint())
                self._cache[name] = minted
            return minted[1]

    def token(self, user_id: str) -> str:
        return self._cached(user_id, lambda: user_token(self.issuer, user_id))

    def system_token(self, practice_ods: str) -> str:
        client_id = system_of(practice_ods)
        key = self.state_dir / "clients" / f"{client_id}.pem"
        return self._cached(client_id, lambda: system_token(self.issuer, client_id, key))

    def user(self, user_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user_id)}"}

    def system(self, practice_ods: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.system_token(practice_ods)}"}

    def forged(self, kind: str) -> str:
        """A token the services must refuse, for the demo MHP: expired, not yet valid, signed by another
        key, for another audience or from another issuer, or not a JWT at all."""
        good = jwt.decode(self.token(MHP), options={"verify_signature": False})
        key = signing_key(self.state_dir)
        now = int(time.time())
        claims, signer = dict(good), key.private
        if kind == "expired":
            claims |= {"iat": now - 3600, "nbf": now - 3600, "exp": now - 600}  # beyond any leeway
        elif kind == "not_yet_valid":
            claims |= {"nbf": now + 600, "exp": now + 1200}
        elif kind == "other_audience":
            claims["aud"] = "another-platform"
        elif kind == "other_issuer":
            claims["iss"] = "https://issuer.example"
        elif kind == "other_key":
            signer = generate_key()  # same key id, another key: as a forger would
        elif kind == "garbage":
            return "not-a-jwt"
        else:
            raise ValueError(kind)
        return jwt.encode(claims, signer, algorithm="RS256", headers={"kid": key.kid})

    def role(self, role: str) -> dict[str, str]:
        """Headers for a principal of this role in PCN U00123 / practice Y01234 / the trust."""
        return self.system("Y01234") if role == "practice_system" else self.user(USER_FOR_ROLE[role])
