"""Who is calling: the platform's roles, the kinds of organisation and the authenticated principal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    """The platform's roles; national RBAC roles map onto them by configuration (`RoleMap`)."""

    MHP = "mhp"
    CLINICAL_LEAD = "clinical_lead"
    PRACTICE_STAFF = "practice_staff"
    PRACTICE_SYSTEM = "practice_system"
    PCN_MANAGER = "pcn_manager"
    TRUST_MANAGER = "trust_manager"
    IG_LEAD = "ig_lead"
    OPERATOR = "operator"


class OrgKind(StrEnum):
    TRUST = "trust"
    PCN = "pcn"
    PRACTICE = "practice"


@dataclass(frozen=True)
class Principal:
    """An authenticated person or practice system, in the role and organisation they act for."""

    user_id: str
    """The token's `sub`: the CIS2 user id of a person, the client id of a practice system."""
    name: str
    role: Role
    org_code: str
    org_kind: OrgKind
    pcn_code: str | None
    """The PCN of a PCN or practice organisation; None for the trust."""
    is_system: bool = False
    trust_pcns: frozenset[str] = frozenset()
    """The PCNs the trust serves (the directory's): the scope of a trust role."""
    pcn_practices: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False, compare=False)
    """The directory's practices of each PCN, so a practice is only ever seen through its own PCN."""

    def can_see(self, pcn_code: str, practice_ods: str | None = None) -> bool:
        """Whether this principal's organisation covers the PCN (and practice, when given)."""
        if practice_ods is not None and practice_ods not in self.pcn_practices.get(pcn_code, frozenset()):
            return False  # not a practice of that PCN, whoever asks
        if self.org_kind is OrgKind.TRUST:
            return pcn_code in self.trust_pcns
        if self.pcn_code != pcn_code:
            return False
        if self.org_kind is OrgKind.PCN:
            return True
        return practice_ods == self.org_code

    @property
    def practice_ods(self) -> str | None:
        """The practice a practice role is confined to."""
        return self.org_code if self.org_kind is OrgKind.PRACTICE else None

    @property
    def scope_pcns(self) -> frozenset[str]:
        """Every PCN this principal may see (one for PCN and practice roles)."""
        if self.org_kind is OrgKind.TRUST:
            return self.trust_pcns
        return frozenset({self.pcn_code}) if self.pcn_code else frozenset()
