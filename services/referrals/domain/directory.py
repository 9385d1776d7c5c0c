"""The trust's referral directory: receiving services per PCN and kind, and the named people who own
escalations (each practice's clinical lead and duty GP, the crisis team, the out-of-hours route, the trust's
duty manager and platform operator).

The order of the services under a kind is the re-routing sequence after a decline. Loaded and validated
from the trust's file by `adapters/directory_file.py`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from shared.contracts.codes import Destination, EscalationReason, EscalationTarget


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
    duty_gps: Mapping[str, str] = field(default_factory=dict)
    """Practice ODS code -> staff id of its duty GP contact."""
    crisis_team: str | None = None
    """The PCN's crisis team contact; None: the trust's."""
    out_of_hours: str | None = None
    """Who takes a red-flag call out of working hours for this PCN; None: the trust's."""


@dataclass(frozen=True)
class TrustContacts:
    """The trust-wide people: the last rung of every ladder and the defaults behind each PCN's."""

    trust_duty_manager: str | None = None
    platform_operator: str | None = None
    crisis_team: str | None = None
    out_of_hours: str | None = None


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
    trust: TrustContacts = field(default_factory=TrustContacts)

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
        """Who must act on an escalation to `target` (None: the directory names nobody for it).

        999 goes to the crisis team contact: the MHP calls 999, and someone must record that it happened.
        """
        pcn = self.pcns.get(pcn_code)
        match target:
            case EscalationTarget.PRACTICE_CLINICAL_LEAD:
                return self.clinical_lead(pcn_code, practice_ods)
            case EscalationTarget.DUTY_GP | EscalationTarget.GP:
                return pcn.duty_gps.get(practice_ods) if pcn is not None else None
            case EscalationTarget.CRISIS_TEAM | EscalationTarget.EMERGENCY_SERVICES:
                return (pcn.crisis_team if pcn is not None else None) or self.trust.crisis_team
            case EscalationTarget.TRUST_DUTY_MANAGER:
                return self.trust.trust_duty_manager
            case EscalationTarget.PLATFORM_OPERATOR:
                return self.trust.platform_operator
        return None

    def owner(
        self, target: EscalationTarget, reason: EscalationReason, pcn_code: str, practice_ods: str
    ) -> str | None:
        """A new escalation's first owner: a red flag out of hours goes to the out-of-hours route (the
        practice's duty GP is not there then), anything else to the target's person. A climb up the ladder
        goes to the next target's person (`assignee`)."""
        if (
            reason is EscalationReason.RED_FLAG_OUT_OF_HOURS
            and target is not EscalationTarget.TRUST_DUTY_MANAGER
        ):
            pcn = self.pcns.get(pcn_code)
            route = (pcn.out_of_hours if pcn is not None else None) or self.trust.out_of_hours
            if route is not None:
                return route
        return self.assignee(target, pcn_code, practice_ods)

    def named_people(self, pcn_code: str) -> frozenset[str]:
        """Everyone the directory names who may own an escalation of this PCN (hand-over targets)."""
        pcn = self.pcns.get(pcn_code)
        trust = self.trust
        names = {trust.trust_duty_manager, trust.platform_operator, trust.crisis_team, trust.out_of_hours}
        if pcn is not None:
            names |= {*pcn.clinical_leads.values(), *pcn.duty_gps.values(), pcn.crisis_team, pcn.out_of_hours}
        return frozenset(name for name in names if name is not None)
