"""Who may see and act on an escalation, beyond the role's right in `access.py`.

The owner acts on their own; the trust's duty managers (the last rung of every ladder) on any of the
trust's; an operator on the platform operator's. A practice's clinicians may see its escalations (who has
it, where it stands) without acting. Everyone else is told it does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.referrals.domain.escalation import Escalation
from shared.contracts.codes import EscalationTarget
from shared.identity import Principal, Role


@dataclass(frozen=True)
class Actor:
    user_id: str
    role: Role
    pcns: frozenset[str]
    """The PCNs the person's organisation covers."""
    practice_ods: str | None
    """The practice a practice role is confined to."""

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(principal.user_id, principal.role, principal.scope_pcns, principal.practice_ods)

    @property
    def inbox_targets(self) -> frozenset[str]:
        """Beside their own: a trust manager's inbox holds the trust's rung, an operator's the operator's."""
        if self.role is Role.TRUST_MANAGER:
            return frozenset({EscalationTarget.TRUST_DUTY_MANAGER.value})
        if self.role is Role.OPERATOR:
            return frozenset({EscalationTarget.PLATFORM_OPERATOR.value})
        return frozenset()

    def may_act(self, escalation: Escalation) -> bool:
        if escalation.owner == self.user_id:
            return True
        if escalation.pcn_code not in self.pcns:
            return False
        if self.role is Role.TRUST_MANAGER:
            return True
        return self.role is Role.OPERATOR and escalation.target is EscalationTarget.PLATFORM_OPERATOR

    def may_see(self, escalation: Escalation) -> bool:
        if self.may_act(escalation):
            return True
        return (
            self.role is Role.CLINICAL_LEAD
            and escalation.pcn_code in self.pcns
            and self.practice_ods in (None, escalation.practice_ods)
        )
