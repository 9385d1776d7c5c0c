"""The triage access table, role by role and action by action: the MHP works, the clinical lead reads."""

from __future__ import annotations

import pytest

from services.triage.application.access import POLICY, Action
from shared.identity import Forbidden, OrgKind, Principal, Role

ALLOWED: dict[Action, set[Role]] = {
    Action.READ_WORKLIST: {Role.MHP},
    Action.RECORD_DECISION: {Role.MHP},
    Action.READ_CALL: {Role.MHP, Role.CLINICAL_LEAD},
}


def test_every_action_has_an_expected_row() -> None:
    assert set(ALLOWED) == set(Action)


@pytest.mark.parametrize(
    ("role", "action"), [(role, action) for action in Action for role in Role], ids=lambda v: str(v)
)
def test_role_may_or_may_not_take_action(role: Role, action: Action) -> None:
    assert POLICY.allows(role, action) is (role in ALLOWED[action])


@pytest.mark.parametrize(
    "role",
    [
        Role.PCN_MANAGER,
        Role.TRUST_MANAGER,
        Role.OPERATOR,
        Role.IG_LEAD,
        Role.PRACTICE_STAFF,
        Role.PRACTICE_SYSTEM,
    ],
)
def test_roles_without_triage_business_take_no_triage_action(role: Role) -> None:
    # A call names the patient (NHS number, date of birth, reason, risk): none of these roles sees one.
    assert not any(POLICY.allows(role, action) for action in Action)


def _principal(role: Role) -> Principal:
    return Principal("someone", "Someone", role, "RMH", OrgKind.TRUST, None)


@pytest.mark.parametrize("action", list(Action))
def test_a_refusal_is_403_naming_the_role_and_the_action(action: Action) -> None:
    with pytest.raises(Forbidden) as refused:
        POLICY.check(_principal(Role.TRUST_MANAGER), action)
    assert refused.value.status_code == 403
    assert refused.value.detail == f"the trust_manager role may not {action}"
