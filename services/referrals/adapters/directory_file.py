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
    duty_gp: StaffId | None = Field(
        default=None, description="Staff id of the practice's duty GP contact (duty_gp and gp escalations)."
    )


class PcnEntry(_Strict):
    # The order of services under a kind is the re-routing sequence after a decline.
    destinations: dict[Destination, tuple[ReceivingServiceEntry, ...]]
    practices: dict[PracticeOds, PracticeEntry] = {}
    crisis_team: StaffId | None = Field(
        default=None,
        description="The PCN's crisis team contact (crisis and 999 escalations); else the trust's.",
    )
    out_of_hours: StaffId | None = Field(
        default=None,
        description="Who takes this PCN's red-flag calls out of working hours; else the trust's.",
    )

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


class TrustEntry(_Strict):
    trust_duty_manager: StaffId = Field(
        description="The trust's central duty manager: every ladder's last rung."
    )
    platform_operator: StaffId = Field(description="The platform operator on call (dead-lettered events).")
    crisis_team: StaffId | None = Field(default=None, description="The crisis team contact for every PCN.")
    out_of_hours: StaffId | None = Field(
        default=None, description="Who takes red-flag calls out of working hours for every PCN."
    )


class DirectoryFile(_Strict):
    defaults: DefaultsEntry = DefaultsEntry()
    trust: TrustEntry | None = Field(
        default=None,
        description=(
            "The trust-wide escalation owners. Without it escalations to the trust are published unowned "
            "(assigned_to empty) and keep re-alerting until a trust manager acknowledges them."
        ),
    )
    pcns: dict[PcnCode, PcnEntry]

    def to_domain(self) -> directory.Directory:
        trust = self.trust
        return directory.Directory(
            defaults=directory.Defaults(referral=self.defaults.referral, advice=self.defaults.advice),
            trust=directory.TrustContacts(
                trust.trust_duty_manager, trust.platform_operator, trust.crisis_team, trust.out_of_hours
            )
            if trust is not None
            else directory.TrustContacts(),
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
                    duty_gps={ods: p.duty_gp for ods, p in pcn.practices.items() if p.duty_gp is not None},
                    crisis_team=pcn.crisis_team,
                    out_of_hours=pcn.out_of_hours,
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
