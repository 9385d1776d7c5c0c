"""The identity rules without a network: directory, CIS2 role mapping, claims -> principal, scope, policy."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from shared.identity import (
    AccessPolicy,
    Forbidden,
    IdentitySettings,
    NoPlatformRole,
    OrganisationDirectory,
    OrgKind,
    Role,
    RoleMap,
    TokenVerifier,
)
from shared.identity.directory import DirectoryError

DEMO_ORGANISATIONS = Path(__file__).resolve().parents[2] / "mhp" / "data" / "demo-organisations.yaml"

DIRECTORY = OrganisationDirectory.load(DEMO_ORGANISATIONS)
VERIFIER = TokenVerifier(IdentitySettings(oidc_issuer="https://issuer.example"), DIRECTORY, RoleMap.load())


def person(role_code: str, org_code: str, **extra: Any) -> dict[str, Any]:
    return {
        "sub": "555000111222",
        "name": "A Person",
        "selected_roleid": "role-1",
        "nhsid_nrbac_roles": [
            {"person_roleid": "role-0", "org_code": "RMH", "role_code": "S8000:G8000:R0001"},
            {"person_roleid": "role-1", "org_code": org_code, "role_code": role_code},
        ],
        **extra,
    }


@pytest.mark.parametrize(
    ("role_code", "org_code", "role", "kind", "pcn"),
    [
        ("S8000:G8000:R8003", "U00123", Role.MHP, OrgKind.PCN, "U00123"),
        ("R8000", "Y01234", Role.CLINICAL_LEAD, OrgKind.PRACTICE, "U00123"),
        ("R8009", "Y04561", Role.PRACTICE_STAFF, OrgKind.PRACTICE, "U00456"),
        ("R8008", "U00456", Role.PCN_MANAGER, OrgKind.PCN, "U00456"),
        ("R8012", "RMH", Role.TRUST_MANAGER, OrgKind.TRUST, None),
        ("R0001", "RMH", Role.IG_LEAD, OrgKind.TRUST, None),
        ("R8015", "RMH", Role.OPERATOR, OrgKind.TRUST, None),
    ],
)
def test_the_selected_cis2_role_gives_the_platform_role_and_organisation(
    role_code: str, org_code: str, role: Role, kind: OrgKind, pcn: str | None
) -> None:
    principal = VERIFIER.principal_of(person(role_code, org_code))
    assert (principal.role, principal.org_kind, principal.org_code, principal.pcn_code) == (
        role,
        kind,
        org_code,
        pcn,
    )
    assert principal.user_id == "555000111222"
    assert not principal.is_system


def test_only_the_selected_role_counts_not_the_persons_other_roles() -> None:
    # The person is also a privacy officer at the trust (role-0), but signed in as the PCN's MHP.
    principal = VERIFIER.principal_of(person("R8003", "U00123"))
    assert principal.role is Role.MHP


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (person("R8003", "U09999"), "not in this trust's directory"),
        (person("R8015", "U00123"), "no access to this platform"),
        (person("R8003", "U00123", selected_roleid="role-9"), "not one of the person's roles"),
        ({"sub": "x", "selected_roleid": "r", "nhsid_nrbac_roles": "R8000"}, "no national RBAC roles"),
    ],
)
def test_a_role_or_organisation_outside_the_platform_is_refused(claims: dict[str, Any], reason: str) -> None:
    with pytest.raises(NoPlatformRole, match=reason):
        VERIFIER.principal_of(claims)


def test_a_practice_system_is_bound_to_its_practice_by_the_directory() -> None:
    principal = VERIFIER.principal_of(
        {"sub": "y01235-clinical-system", "client_id": "y01235-clinical-system"}
    )
    assert (principal.role, principal.org_code, principal.pcn_code, principal.is_system) == (
        Role.PRACTICE_SYSTEM,
        "Y01235",
        "U00123",
        True,
    )
    with pytest.raises(NoPlatformRole):
        VERIFIER.principal_of({"sub": "some-other-app", "client_id": "some-other-app"})


@pytest.mark.parametrize(
    ("role_code", "org", "pcn", "practice", "visible"),
    [
        ("R8003", "U00123", "U00123", None, True),
        ("R8003", "U00123", "U00123", "Y01239", True),
        ("R8003", "U00123", "U00123", "Y04561", False),  # a practice of another PCN, named under this one
        ("R8012", "RMH", "U00123", "Y04561", False),
        ("R8003", "U00123", "U00456", None, False),
        ("R8000", "Y01234", "U00123", "Y01234", True),
        ("R8000", "Y01234", "U00123", "Y01235", False),
        ("R8000", "Y01234", "U00123", None, False),  # a practice role never sees the whole PCN
        ("R8012", "RMH", "U00456", None, True),
        ("R8012", "RMH", "U09999", None, False),  # not a PCN this trust serves
    ],
)
def test_scope_follows_the_organisation_tree(
    role_code: str, org: str, pcn: str, practice: str | None, visible: bool
) -> None:
    assert VERIFIER.principal_of(person(role_code, org)).can_see(pcn, practice) is visible


class _Action(StrEnum):
    READ = "read a thing"


def test_the_policy_allows_listed_roles_and_gives_the_reason_otherwise() -> None:
    policy = AccessPolicy({_Action.READ: {Role.MHP}})
    mhp = VERIFIER.principal_of(person("R8003", "U00123"))
    manager = VERIFIER.principal_of(person("R8008", "U00123"))
    assert policy.check(mhp, _Action.READ) is mhp
    with pytest.raises(Forbidden) as refused:
        policy.check(manager, _Action.READ)
    assert refused.value.status_code == 403
    assert refused.value.detail == "the pcn_manager role may not read a thing"


def test_a_practice_in_two_pcns_or_a_system_of_no_practice_is_refused(tmp_path: Path) -> None:
    clash = tmp_path / "clash.yaml"
    clash.write_text(
        "trust: {code: RMH}\npcns:\n"
        "  U00001: {practices: {Y00001: {}}}\n  U00002: {practices: {Y00001: {}}}\n"
    )
    with pytest.raises(DirectoryError, match="two PCNs"):
        OrganisationDirectory.load(clash)
    orphan = tmp_path / "orphan.yaml"
    orphan.write_text("trust: {code: RMH}\npcns: {U00001: {practices: {}}}\nsystems: {app: Y00009}\n")
    with pytest.raises(DirectoryError, match="in no PCN"):
        OrganisationDirectory.load(orphan)


def test_symmetric_algorithms_cannot_be_configured() -> None:
    # HS256 would let anyone with the issuer's public key mint tokens.
    with pytest.raises(ValueError, match="OIDC_ALGORITHMS"):
        IdentitySettings(oidc_algorithms=["HS256"])
    with pytest.raises(ValueError, match="OIDC_ALGORITHMS"):
        IdentitySettings(oidc_algorithms=["none"])
