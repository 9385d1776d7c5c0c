"""The trust's referral directory: receiving services per PCN and kind, and each practice's clinical lead.

Loaded from a YAML or JSON file the trust maintains; a bad file stops start-up with a message naming
the place in the file that is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from shared.contracts.codes import Destination
from shared.contracts.envelope import PcnCode, PracticeOds, StaffId
from shared.contracts.v1 import ServiceCode

EXAMPLE_PATH = Path(__file__).with_name("directory.example.yaml")


class DirectoryError(ValueError):
    """The directory file cannot be used; the message says where and why."""


class ReceivingService(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: ServiceCode = Field(description="Stable code, sent in referral.made as destination_service.")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    contact: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class Practice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    clinical_lead: StaffId = Field(description="Staff id of the named clinical lead: the escalation route.")


class PcnDirectory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # The order of services under a kind is the re-routing sequence after a decline.
    destinations: dict[Destination, tuple[ReceivingService, ...]]
    practices: dict[PracticeOds, Practice] = {}

    @model_validator(mode="after")
    def _codes_unique(self) -> PcnDirectory:
        seen: set[str] = set()
        for kind, services in self.destinations.items():
            for service in services:
                if service.code in seen:
                    raise ValueError(f"service code {service.code!r} appears twice (under {kind.value})")
                seen.add(service.code)
        return self


class Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    referral: Destination = Field(
        default=Destination.COMMUNITY_MENTAL_HEALTH_TEAM,
        description="Where a referral goes when triage or the appointment names no destination.",
    )
    advice: Destination = Field(
        default=Destination.VOLUNTARY_SECTOR,
        description="What advice-only dispositions are recorded as signposting to.",
    )


class Directory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    defaults: Defaults = Defaults()
    pcns: dict[PcnCode, PcnDirectory]

    def services(self, pcn_code: str, kind: Destination) -> tuple[ReceivingService, ...]:
        pcn = self.pcns.get(pcn_code)
        return pcn.destinations.get(kind, ()) if pcn is not None else ()

    def clinical_lead(self, pcn_code: str, practice_ods: str) -> str | None:
        pcn = self.pcns.get(pcn_code)
        practice = pcn.practices.get(practice_ods) if pcn is not None else None
        return practice.clinical_lead if practice is not None else None


def parse_directory(text: str, *, source: str = "directory") -> Directory:
    """Parse YAML (a superset of JSON) and validate; raises DirectoryError naming the bad entry."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DirectoryError(f"{source}: not valid YAML or JSON: {exc}") from None
    try:
        return Directory.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise DirectoryError(f"{source}: {problems}") from None


def load_directory(path: Path) -> Directory:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DirectoryError(f"{path}: cannot read the referral directory ({exc.strerror})") from None
    if path.suffix == ".json":
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise DirectoryError(f"{path}: not valid JSON: {exc}") from None
    return parse_directory(text, source=str(path))
