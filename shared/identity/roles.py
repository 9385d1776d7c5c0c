"""National RBAC role codes -> the platform's roles: configuration (`MHP_ROLE_MAP_FILE`), not code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from shared.identity.principal import OrgKind, Role

DEFAULT_ROLE_MAP = Path(__file__).resolve().parents[1] / "data" / "cis2-role-map.yaml"


class RoleRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    role_code: str
    """The national RBAC job role code (the `R` code, e.g. R8000)."""
    org_kind: OrgKind
    role: Role


class _RoleMapFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[RoleRule]


def job_role(role_code: str) -> str:
    """CIS2 sends `S8000:G8000:R8000` (staff group, sub-group, job role); the job role decides."""
    return role_code.rsplit(":", 1)[-1].strip()


@dataclass(frozen=True)
class RoleMap:
    rules: tuple[RoleRule, ...]

    @classmethod
    def load(cls, path: Path = DEFAULT_ROLE_MAP) -> RoleMap:
        try:
            parsed = _RoleMapFile.model_validate(yaml.safe_load(path.read_text()))
        except (OSError, yaml.YAMLError, ValueError) as exc:
            raise ValueError(f"role map {path}: {exc}") from None
        return cls(rules=tuple(parsed.rules))

    def platform_role(self, role_code: str, org_kind: OrgKind) -> Role | None:
        code = job_role(role_code)
        for rule in self.rules:
            if rule.role_code == code and rule.org_kind is org_kind:
                return rule.role
        return None
