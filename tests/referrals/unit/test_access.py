"""The referrals access table, role by role and action by action: only the pathway's clinicians act."""

from __future__ import annotations

import pytest

from services.referrals.application.access import POLICY, Action
from shared.identity import Role

ALLOWED: dict[Action, set[Role]] = {
    Action.LIST_REFERRALS: {Role.MHP, Role.CLINICAL_LEAD},
    Action.READ_REFERRAL: {Role.MHP, Role.CLINICAL_LEAD},
    Action.RECORD_RESPONSE: {Role.MHP, Role.CLINICAL_LEAD},
    Action.REDIRECT_REFERRAL: {Role.MHP, Role.CLINICAL_LEAD},
    Action.LIST_FOLLOW_UPS: {Role.MHP, Role.CLINICAL_LEAD},
    Action.RECORD_FOLLOW_UP_OUTCOME: {Role.MHP, Role.CLINICAL_LEAD},
    # Escalation owners: which escalations each may see or act on is application/escalation_access.py's.
    Action.LIST_ESCALATIONS: {Role.CLINICAL_LEAD, Role.TRUST_MANAGER, Role.OPERATOR},
    Action.READ_ESCALATION: {Role.CLINICAL_LEAD, Role.TRUST_MANAGER, Role.OPERATOR},
    Action.ACT_ON_ESCALATION: {Role.CLINICAL_LEAD, Role.TRUST_MANAGER, Role.OPERATOR},
}
ESCALATION_ACTIONS = {Action.LIST_ESCALATIONS, Action.READ_ESCALATION, Action.ACT_ON_ESCALATION}


def test_every_action_has_an_expected_row() -> None:
    assert set(ALLOWED) == set(Action)


@pytest.mark.parametrize(
    ("role", "action"), [(role, action) for action in Action for role in Role], ids=lambda v: str(v)
)
def test_role_may_or_may_not_take_action(role: Role, action: Action) -> None:
    assert POLICY.allows(role, action) is (role in ALLOWED[action])


@pytest.mark.parametrize(
    "role", [Role.PCN_MANAGER, Role.TRUST_MANAGER, Role.OPERATOR, Role.IG_LEAD, Role.PRACTICE_SYSTEM]
)
def test_roles_without_patient_business_take_no_referrals_action(role: Role) -> None:
    assert not any(POLICY.allows(role, action) for action in set(Action) - ESCALATION_ACTIONS)
