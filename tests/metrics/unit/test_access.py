"""The metrics access table, role by role and action by action: the trust and PCN managers only."""

from __future__ import annotations

import pytest

from services.metrics.application.access import POLICY, Action
from shared.identity import Role

ALLOWED: dict[Action, set[Role]] = {
    Action.READ_MONTHLY_RETURN: {Role.PCN_MANAGER, Role.TRUST_MANAGER},
    Action.READ_TRUST_VIEW: {Role.TRUST_MANAGER},
    Action.WATCH_LIVE_FEED: {Role.TRUST_MANAGER},
    Action.VIEW_TRUST_DASHBOARD: {Role.TRUST_MANAGER},
    Action.VIEW_PCN_DASHBOARD: {Role.PCN_MANAGER, Role.TRUST_MANAGER},
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
        Role.MHP,
        Role.CLINICAL_LEAD,
        Role.PRACTICE_STAFF,
        Role.PRACTICE_SYSTEM,
        Role.IG_LEAD,
        Role.OPERATOR,
    ],
)
def test_roles_outside_management_take_no_metrics_action(role: Role) -> None:
    assert not any(POLICY.allows(role, action) for action in Action)


def test_a_pcn_manager_never_sees_the_comparison_across_pcns() -> None:
    across_pcns = [Action.READ_TRUST_VIEW, Action.WATCH_LIVE_FEED, Action.VIEW_TRUST_DASHBOARD]
    assert not any(POLICY.allows(Role.PCN_MANAGER, action) for action in across_pcns)
