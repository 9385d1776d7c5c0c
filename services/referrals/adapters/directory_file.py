"""Loading the trust's referral directory file (YAML or JSON) into the domain's `Directory`.

A bad file stops start-up with a message naming the place in the file that is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from services.referrals.domain import directory
from shared.contracts.codes import Destination
from shared.contracts.envelope import OrgCode, PcnCode, PracticeOds, StaffId
from shared.contracts.v1 import ServiceCode

EXAMPLE_PATH = Path(__file__).parents[1] / "directory.example.yaml"

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class DirectoryError(ValueError):
    """The directory file cannot be used; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReceivingServiceEntry(_Strict):
    code: ServiceCode = Field(description="Stable code, sent in referral.made as destination_service.")
    name: Text200
    contact: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    answered_by: OrgCode | None = Field(
        default=None,
        description=(
            "ODS code of the organisation whose systems answer this service's referrals on the bus (its "
            "broker user is partner-<code>); without it no answer from the bus is accepted for it."
        ),
    )


class PracticeEntry(_Strict):
    clinical_lead: StaffId = Field(description="Staff id of the named clinical lead: the escalation route.")


class PcnEntry(_Strict):
    # The order of services under a kind is the re-routing sequence after a decline.
    destinations: dict[Destination, tuple[ReceivingServiceEntry, ...]]
    practices: dict[PracticeOds, PracticeEntry] = {}

    @model_validator(mode="after")
    def _codes_unique(self) -> PcnEntry:
        seen: set[str] = set()
        for kind, services in self.destinations.items():
            for service in services:
                if service.code in seen:
                    raise ValueError(f"service code {service.code!r} appears twice (under {kind.value})")
                seen.add(service.code)
        return self


class DefaultsEntry(_Strict):
    referral: Destination = Field(
        default=Destination.COMMUNITY_MENTAL_HEALTH_TEAM,
        description="Where a referral goes when triage or the appointment names no destination.",
    )
    advice: Destination = Field(
        default=Destination.VOLUNTARY_SECTOR,
        description="What advice-only dispositions are recorded as signposting to.",
    )


class DirectoryFile(_Strict):
    defaults: DefaultsEntry = DefaultsEntry()
    pcns: dict[PcnCode, PcnEntry]

    def to_domain(self) -> directory.Directory:
        return directory.Directory(
            defaults=directory.Defaults(referral=self.defaults.referral, advice=self.defaults.advice),
            pcns={
                code: directory.PcnDirectory(
                    destinations={
                        kind: tuple(
                            directory.ReceivingService(s.code, s.name, s.contact, s.answered_by)
                            for s in services
                        )
                        for kind, services in pcn.destinations.items()
                    },
                    clinical_leads={ods: p.clinical_lead for ods, p in pcn.practices.items()},
                )
                for code, pcn in self.pcns.items()
            },
        )


def parse_directory(text: str, *, source: str = "directory") -> directory.Directory:
    """Parse YAML (a superset of JSON) and validate; raises DirectoryError naming the bad entry."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DirectoryError(f"{source}: not valid YAML or JSON: {exc}") from None
    try:
        return DirectoryFile.model_validate(raw).to_domain()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise DirectoryError(f"{source}: {problems}") from None


def load_directory(path: Path) -> directory.Directory:
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
