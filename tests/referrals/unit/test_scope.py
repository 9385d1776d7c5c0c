"""Which PCN and practice a list may cover, by caller: their own, or 404 for another organisation's."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from services.referrals.entrypoints.guard import list_scope
from shared.identity import OrganisationDirectory, OrgKind, Principal, Role

DIRECTORY = OrganisationDirectory(
    trust_code="RMH",
    pcns={"U00123": frozenset({"Y01234", "Y01235"}), "U00456": frozenset({"Y04561"})},
)
MHP = Principal("mhp.ahmed", "MHP", Role.MHP, "U00123", OrgKind.PCN, "U00123", pcn_practices=DIRECTORY.pcns)
LEAD = Principal(
    "lead.y01234",
    "Lead",
    Role.CLINICAL_LEAD,
    "Y01234",
    OrgKind.PRACTICE,
    "U00123",
    pcn_practices=DIRECTORY.pcns,
)

SCOPES = [
    (MHP, None, None, ("U00123", None)),
    (MHP, "U00123", None, ("U00123", None)),
    (MHP, None, "Y01235", ("U00123", "Y01235")),
    (MHP, "U00456", None, None),
    (MHP, None, "Y04561", None),  # a practice of another PCN
    (MHP, "U00123", "Y09999", None),  # a practice in no PCN
    (LEAD, None, None, ("U00123", "Y01234")),  # confined to their practice without naming it
    (LEAD, "U00123", None, ("U00123", "Y01234")),
    (LEAD, None, "Y01234", ("U00123", "Y01234")),
    (LEAD, None, "Y01235", None),
    (LEAD, "U00456", "Y04561", None),
]


@pytest.mark.parametrize(("principal", "pcn", "practice", "expected"), SCOPES)
def test_list_scope(
    principal: Principal, pcn: str | None, practice: str | None, expected: tuple[str, str | None] | None
) -> None:
    if expected is None:
        with pytest.raises(HTTPException) as refused:
            list_scope(principal, pcn, practice, DIRECTORY)
        assert (refused.value.status_code, refused.value.detail) == (404, "not found")
    else:
        assert list_scope(principal, pcn, practice, DIRECTORY) == expected
