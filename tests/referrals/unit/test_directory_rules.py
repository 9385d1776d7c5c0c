"""The directory as the domain uses it: re-routing order per PCN and kind, and who an escalation goes to."""

from __future__ import annotations

from shared.contracts.codes import Destination, EscalationTarget
from tests.referrals.unit.fakes import DIRECTORY, LEAD, PCN, PRACTICE

CMHT = Destination.COMMUNITY_MENTAL_HEALTH_TEAM


def test_next_service_follows_the_directory_order_skipping_those_tried() -> None:
    assert DIRECTORY.next_service(PCN, CMHT, ()) == "cmht-east"
    assert DIRECTORY.next_service(PCN, CMHT, {"cmht-east"}) == "cmht-west"
    assert DIRECTORY.next_service(PCN, CMHT, {"cmht-east", "cmht-west"}) is None


def test_an_unknown_pcn_or_kind_has_no_service() -> None:
    assert DIRECTORY.next_service("U99999", CMHT, ()) is None
    assert DIRECTORY.next_service(PCN, Destination.DUTY_GP, ()) is None
    assert DIRECTORY.services("U99999", CMHT) == ()


def test_clinical_lead_escalations_name_the_practices_lead_and_gp_notices_no_one() -> None:
    assert DIRECTORY.assignee(EscalationTarget.PRACTICE_CLINICAL_LEAD, PCN, PRACTICE) == LEAD
    assert DIRECTORY.assignee(EscalationTarget.PRACTICE_CLINICAL_LEAD, PCN, "Y99999") is None
    assert DIRECTORY.assignee(EscalationTarget.GP, PCN, PRACTICE) is None
