"""The trust's referral directory: receiving services per PCN and kind, and each practice's clinical lead.

The order of the services under a kind is the re-routing sequence after a decline. Loaded and validated
from the trust's file by `adapters/directory_file.py`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from shared.contracts.codes import Destination, EscalationTarget


@dataclass(frozen=True)
class ReceivingService:
    code: str
    name: str
    contact: str | None = None
    answered_by: str | None = None
    """The organisation (ODS code) whose systems answer this service's referrals on the bus."""


@dataclass(frozen=True)
class PcnDirectory:
    destinations: Mapping[Destination, tuple[ReceivingService, ...]]
    clinical_leads: Mapping[str, str] = field(default_factory=dict)
    """Practice ODS code -> staff id of its named clinical lead (the escalation route)."""


@dataclass(frozen=True)
class Defaults:
    referral: Destination = Destination.COMMUNITY_MENTAL_HEALTH_TEAM
    """Where a referral goes when triage or the appointment names no destination."""
    advice: Destination = Destination.VOLUNTARY_SECTOR
    """What advice-only dispositions are recorded as signposting to."""


def next_service(ordered_codes: Sequence[str], tried: Collection[str]) -> str | None:
    """The first service in the directory's order for the kind that this chain has not tried yet."""
    return next((code for code in ordered_codes if code not in tried), None)


@dataclass(frozen=True)
class Directory:
    pcns: Mapping[str, PcnDirectory]
    defaults: Defaults = field(default_factory=Defaults)

    def services(self, pcn_code: str, kind: Destination) -> tuple[ReceivingService, ...]:
        pcn = self.pcns.get(pcn_code)
        return tuple(pcn.destinations.get(kind, ())) if pcn is not None else ()

    def next_service(self, pcn_code: str, kind: Destination, tried: Collection[str]) -> str | None:
        return next_service([s.code for s in self.services(pcn_code, kind)], tried)

    def answerer(self, pcn_code: str, service_code: str | None) -> str | None:
        """Who may answer a referral made to `service_code` from the bus (None: nobody may)."""
        pcn = self.pcns.get(pcn_code)
        if pcn is None or service_code is None:
            return None
        found = (s for services in pcn.destinations.values() for s in services if s.code == service_code)
        return next((s.answered_by for s in found), None)

    def clinical_lead(self, pcn_code: str, practice_ods: str) -> str | None:
        pcn = self.pcns.get(pcn_code)
        return pcn.clinical_leads.get(practice_ods) if pcn is not None else None

    def assignee(self, target: EscalationTarget, pcn_code: str, practice_ods: str) -> str | None:
        """Who must act on an escalation: the practice's named clinical lead, when it goes to them."""
        if target is EscalationTarget.PRACTICE_CLINICAL_LEAD:
            return self.clinical_lead(pcn_code, practice_ods)
        return None
