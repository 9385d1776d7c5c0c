"""The trust's organisation directory: its PCNs, their practices and the practice systems' client ids.

One YAML file (`MHP_ORGANISATIONS_FILE`) that every service reads, so that all of them scope requests
by the same tree of ODS codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.envelope import PcnCode, PracticeOds
from shared.identity.principal import OrgKind


class _Org(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = ""


class _Pcn(_Org):
    practices: dict[PracticeOds, _Org] = Field(default_factory=dict)


class _Trust(_Org):
    code: str = Field(pattern=r"^[A-Z0-9]{3,5}$")


class _DirectoryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    trust: _Trust
    pcns: dict[PcnCode, _Pcn]
    systems: dict[str, PracticeOds] = Field(default_factory=dict)


class DirectoryError(ValueError):
    pass


@dataclass(frozen=True)
class OrganisationDirectory:
    trust_code: str
    pcns: Mapping[str, frozenset[str]]
    """PCN code -> its practices' ODS codes."""
    systems: Mapping[str, str] = field(default_factory=dict)
    """OAuth client id of a practice system -> the practice it acts for."""
    names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> OrganisationDirectory:
        try:
            raw = yaml.safe_load(path.read_text())
            parsed = _DirectoryFile.model_validate(raw)
        except (OSError, yaml.YAMLError, ValueError) as exc:
            raise DirectoryError(f"organisation directory {path}: {exc}") from None
        pcns = {code: frozenset(pcn.practices) for code, pcn in parsed.pcns.items()}
        seen: dict[str, str] = {}
        for pcn, practices in pcns.items():
            for practice in practices:
                if practice in seen:
                    raise DirectoryError(f"practice {practice} is in two PCNs ({seen[practice]}, {pcn})")
                seen[practice] = pcn
        for client_id, practice in parsed.systems.items():
            if practice not in seen:
                raise DirectoryError(f"system {client_id} is bound to {practice}, which is in no PCN")
        names = {parsed.trust.code: parsed.trust.name}
        for pcn_code, entry in parsed.pcns.items():
            names[pcn_code] = entry.name
            names.update({ods: org.name for ods, org in entry.practices.items()})
        return cls(trust_code=parsed.trust.code, pcns=pcns, systems=dict(parsed.systems), names=names)

    def kind_of(self, code: str) -> OrgKind | None:
        if code == self.trust_code:
            return OrgKind.TRUST
        if code in self.pcns:
            return OrgKind.PCN
        return OrgKind.PRACTICE if self.pcn_of(code) is not None else None

    def pcn_of(self, practice_ods: str) -> str | None:
        for pcn, practices in self.pcns.items():
            if practice_ods in practices:
                return pcn
        return None

    def practices_of(self, pcn_code: str) -> frozenset[str]:
        return self.pcns.get(pcn_code, frozenset())
