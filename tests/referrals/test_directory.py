"""The referral directory file and the OpenAPI document: a bad file stops start-up, naming the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.referrals.adapters.directory_file import (
    EXAMPLE_PATH,
    DirectoryError,
    load_directory,
    parse_directory,
)
from services.referrals.bootstrap import build_host
from services.referrals.settings import ReferralsSettings
from shared.contracts.codes import Destination, EscalationReason, EscalationTarget


def test_example_directory_covers_every_destination_kind_and_names_each_practices_lead() -> None:
    directory = load_directory(EXAMPLE_PATH)
    for kind in Destination:
        assert directory.services("U00123", kind), kind
    assert [s.code for s in directory.services("U00123", Destination.COMMUNITY_MENTAL_HEALTH_TEAM)] == [
        "cmht-east",
        "cmht-west",
    ]
    assert directory.clinical_lead("U00123", "Y01234") == "lead.y01234"
    assert directory.clinical_lead("U00999", "Y01234") is None


def test_example_directory_names_an_owner_for_every_escalation_target() -> None:
    directory = load_directory(EXAMPLE_PATH)
    owners = {target: directory.assignee(target, "U00123", "Y01234") for target in EscalationTarget}
    assert owners == {
        EscalationTarget.PRACTICE_CLINICAL_LEAD: "lead.y01234",
        EscalationTarget.DUTY_GP: "dutygp.y01234",
        EscalationTarget.GP: "dutygp.y01234",
        EscalationTarget.CRISIS_TEAM: "crisis.rmh",
        EscalationTarget.EMERGENCY_SERVICES: "crisis.rmh",
        EscalationTarget.TRUST_DUTY_MANAGER: "trust.manager",
        EscalationTarget.PLATFORM_OPERATOR: "ops.operator",
    }
    # Out of hours a red flag goes to the PCN's out-of-hours route, not the practice's duty GP.
    red_flag = EscalationReason.RED_FLAG_OUT_OF_HOURS
    assert directory.owner(EscalationTarget.DUTY_GP, red_flag, "U00123", "Y01234") == "dutygp.u00123"
    assert (
        directory.owner(EscalationTarget.DUTY_GP, EscalationReason.RISK, "U00123", "Y01234")
        == "dutygp.y01234"
    )
    assert {"lead.y01235", "dutygp.y01239", "trust.manager", "crisis.rmh"} <= directory.named_people("U00123")
    assert "lead.y01234" not in directory.named_people("U00456")


def test_a_pcns_crisis_team_and_out_of_hours_route_stand_before_the_trusts() -> None:
    directory = parse_directory(
        "trust: {trust_duty_manager: tdm, platform_operator: ops, crisis_team: crisis.trust}\n"
        "pcns:\n"
        "  U00123: {destinations: {}, crisis_team: crisis.pcn, out_of_hours: ooh.pcn}\n"
        "  U00456: {destinations: {}}\n"
    )
    assert directory.assignee(EscalationTarget.CRISIS_TEAM, "U00123", "Y01234") == "crisis.pcn"
    assert directory.assignee(EscalationTarget.CRISIS_TEAM, "U00456", "Y04561") == "crisis.trust"
    red_flag = EscalationReason.RED_FLAG_OUT_OF_HOURS
    assert directory.owner(EscalationTarget.CRISIS_TEAM, red_flag, "U00123", "Y01234") == "ooh.pcn"
    # No out-of-hours route anywhere: the target's own person.
    assert directory.owner(EscalationTarget.CRISIS_TEAM, red_flag, "U00456", "Y04561") == "crisis.trust"
    assert directory.assignee(EscalationTarget.DUTY_GP, "U00456", "Y04561") is None


def test_json_directory_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "directory.json"
    path.write_text(
        json.dumps(
            {
                "pcns": {
                    "U00456": {
                        "destinations": {"duty_gp": [{"code": "duty-gp", "name": "Duty GP"}]},
                        "practices": {"Y04560": {"clinical_lead": "lead.1"}},
                    }
                }
            }
        )
    )
    directory = load_directory(path)
    assert [s.code for s in directory.services("U00456", Destination.DUTY_GP)] == ["duty-gp"]
    assert directory.defaults.referral is Destination.COMMUNITY_MENTAL_HEALTH_TEAM


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("pcns: {U00123: {destinations: {astrology: []}}}", "pcns.U00123.destinations.astrology"),
        ("pcns: {U0012: {destinations: {}}}", "pcns.U0012"),
        (
            "pcns: {U00123: {destinations: {duty_gp: [{name: GP}]}}}",
            "pcns.U00123.destinations.duty_gp.0.code",
        ),
        (
            "pcns: {U00123: {destinations: {}, practices: {Y01234: {clinical_lead: 'Dr Who'}}}}",
            "clinical_lead",
        ),
        (
            "pcns: {U00123: {destinations: "
            "{duty_gp: [{code: a, name: A}], crisis_team: [{code: a, name: B}]}}}",
            "service code 'a' appears twice",
        ),
        ("pcns: [", "not valid YAML or JSON"),
        (
            "pcns: {U00123: {destinations: {}, practices: {Y01234: {clinical_lead: a, duty_gp: 'Dr Who'}}}}",
            "pcns.U00123.practices.Y01234.duty_gp",
        ),
        ("trust: {platform_operator: ops}\npcns: {}", "trust.trust_duty_manager: Field required"),
        ("trust: {trust_duty_manager: tdm, platform_operator: ops, pager: x}\npcns: {}", "trust.pager"),
        ("defaults: {}", "pcns: Field required"),
    ],
)
def test_a_bad_directory_is_refused_naming_the_place_and_the_problem(text: str, names: str) -> None:
    with pytest.raises(DirectoryError, match=names.replace("(", r"\(").replace(".", r"\.")):
        parse_directory(text)


def test_service_does_not_build_with_a_missing_or_bad_directory_file(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError, match="cannot read the referral directory"):
        build_host(
            ReferralsSettings(
                database_url="sqlite+aiosqlite:///:memory:", directory_path=tmp_path / "no.yaml"
            )
        )
    bad = tmp_path / "bad.json"
    bad.write_text('{"pcns": ')
    with pytest.raises(DirectoryError, match="not valid JSON"):
        build_host(ReferralsSettings(database_url="sqlite+aiosqlite:///:memory:", directory_path=bad))


def test_openapi_document_lists_referrals_responses_and_follow_ups() -> None:
    host = build_host(ReferralsSettings(database_url="sqlite+aiosqlite:///:memory:"))
    document = host.http_app().openapi()
    assert {
        "/referrals",
        "/referrals/{referral_id}",
        "/referrals/{referral_id}/accept",
        "/referrals/{referral_id}/decline",
        "/referrals/{referral_id}/complete",
        "/referrals/{referral_id}/redirect",
        "/follow-ups",
        "/follow-ups/{follow_up_id}/outcome",
    } <= set(document["paths"])
    schemas = document["components"]["schemas"]
    assert schemas["DeclineRequest"]["required"] == ["reason_code"]  # issue 20: free text only beside it
    assert "signposted_to" in schemas["FollowUpOutcomeRequest"]["properties"]
    assert "needs_clinical_lead" in schemas["ReferralView"]["properties"]
