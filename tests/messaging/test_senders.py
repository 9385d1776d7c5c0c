"""The consumer's sender check: the broker-validated user_id must be allowed to send this envelope."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.contracts.codes import Disposition, Modality, TriageCode
from shared.contracts.envelope import Envelope
from shared.contracts.registry import REGISTRY, ContractError
from shared.contracts.v1 import (
    AppointmentCancelled,
    AppointmentCancelledData,
    CallTriaged,
    CallTriagedData,
    ReferralAccepted,
    ReferralAcceptedData,
)
from shared.messaging.senders import (
    PUBLISHED_BY,
    SenderCheck,
    SenderKind,
    partner_user,
    pcn_user,
    practice_user,
    sender_of,
    service_user,
)
from tests.support.factories import PCN, call_received

CHECK = SenderCheck(trust_code="RMH")


def _triaged(producer: str = "RMH/triage", pcn_code: str = "U00123") -> CallTriaged:
    return CallTriaged.create(
        CallTriagedData(
            call_id=uuid.uuid4(),
            triage_code=TriageCode.D,
            disposition=Disposition.URGENT_APPOINTMENT,
            respond_by=datetime.now(UTC) + timedelta(hours=72),
            modality=Modality.TELEPHONE,
            appointment_minutes=30,
            clinician="mhp.jones",
        ),
        producer=producer,
        pcn_code=pcn_code,
        practice_ods="Y01234",
        correlation_id=uuid.uuid4(),
    )


def _refusal(user_id: str | None, event: Envelope[Any]) -> str:
    with pytest.raises(ContractError) as refused:
        CHECK.check(user_id, event)
    return refused.value.reason


def test_every_catalogue_event_type_has_publishers_and_every_publisher_is_known() -> None:
    assert {event_type for event_type, _ in REGISTRY} == set(PUBLISHED_BY)
    known = {"triage", "booking", "referrals", "practice systems", "receiving services"}
    assert set().union(*PUBLISHED_BY.values()) == known


@pytest.mark.parametrize(
    ("user", "kind", "org", "pcn"),
    [
        ("mhp-triage", SenderKind.SERVICE, None, None),
        ("mhp-booking-u00123", SenderKind.SERVICE, None, "U00123"),
        ("practice-y01234", SenderKind.PRACTICE, "Y01234", None),
        ("pcn-u00123", SenderKind.PCN, "U00123", "U00123"),
        ("partner-rxy", SenderKind.PARTNER, "RXY", None),
    ],
)
def test_user_names_map_to_senders_as_the_definitions_make_them(
    user: str, kind: SenderKind, org: str | None, pcn: str | None
) -> None:
    sender = sender_of(user)
    assert sender is not None
    assert (sender.kind, sender.org, sender.pcn_code) == (kind, org, pcn)


@pytest.mark.parametrize(
    "user", ["guest", "mhp-admin", "practice-y0123", "pcn-x00123", "mhp-", "practice-y01234 "]
)
def test_a_user_outside_the_scheme_is_no_sender(user: str) -> None:
    assert sender_of(user) is None


def test_the_user_names_round_trip() -> None:
    assert sender_of(service_user("booking", "U00123")) == sender_of("mhp-booking-u00123")
    assert sender_of(practice_user("Y01234")) == sender_of("practice-y01234")
    assert sender_of(pcn_user("U00123")) == sender_of("pcn-u00123")
    assert sender_of(partner_user("RXY")) == sender_of("partner-rxy")


def test_a_practice_sends_its_own_calls() -> None:
    sender = CHECK.check("practice-y01234", call_received())
    assert sender.kind is SenderKind.PRACTICE


def test_a_pcn_system_sends_for_any_practice_of_its_pcn_under_its_own_name() -> None:
    assert CHECK.check("pcn-u00123", call_received(practice_ods="Y01235", producer="U00123/hub"))
    assert _refusal("pcn-u00123", call_received(practice_ods="Y01235")) == (
        "producer does not match the sender pcn-u00123"
    )
    assert _refusal(
        "pcn-u00123", call_received(pcn_code="U00999", practice_ods="Y09999", producer="U00123/hub")
    ) == ("pcn-u00123 may not publish for another PCN")


def test_a_message_without_a_validated_sender_is_refused() -> None:
    assert _refusal(None, call_received()) == "no validated sender: the message has no AMQP user_id"
    assert _refusal("", call_received()) == "no validated sender: the message has no AMQP user_id"
    assert (
        _refusal("guest", call_received()) == "the AMQP user_id is not one of the platform's publishing users"
    )


def test_a_practice_cannot_name_another_practice_or_the_trust_as_producer() -> None:
    assert _refusal("practice-y01234", call_received(producer="Y01235/reception")) == (
        "producer does not match the sender practice-y01234"
    )
    assert _refusal("practice-y01234", call_received(producer="RMH/triage")) == (
        "producer does not match the sender practice-y01234"
    )
    # Its own name on a neighbour's call: the routing check passed (same key), the practice is not its own.
    neighbours = call_received(practice_ods="Y01235", producer="Y01234/reception")
    assert _refusal("practice-y01234", neighbours) == "practice-y01234 may not publish for another practice"


def test_a_practice_cannot_send_what_only_a_service_sends() -> None:
    assert _refusal("practice-y01234", _triaged(producer="Y01234/reception")) == (
        "practice-y01234 may not publish call.triaged"
    )


def test_a_service_sends_only_its_own_events_under_the_trusts_name() -> None:
    assert CHECK.check("mhp-triage", _triaged()).service == "triage"
    assert (
        _refusal("mhp-booking", _triaged(producer="U00123/booking"))
        == "mhp-booking may not publish call.triaged"
    )
    assert _refusal("mhp-metrics", _triaged()) == "mhp-metrics may not publish call.triaged"
    assert (
        _refusal("mhp-triage", _triaged(producer="RXX/triage"))
        == "producer does not match the sender mhp-triage"
    )
    assert _refusal("mhp-triage", _triaged(producer="RMH/booking")) == (
        "producer does not match the sender mhp-triage"
    )


def test_booking_confined_to_a_pcn_sends_for_that_pcn_only() -> None:
    booked = _appointment_event("U00123/booking", PCN)
    assert CHECK.check("mhp-booking-u00123", booked).pcn_code == "U00123"
    assert CHECK.check("mhp-booking", booked).pcn_code is None
    elsewhere = _appointment_event("U00999/booking", "U00999")
    assert _refusal("mhp-booking-u00123", elsewhere) == "mhp-booking-u00123 may not publish for another PCN"


def _appointment_event(producer: str, pcn_code: str) -> Envelope[Any]:
    return AppointmentCancelled.create(
        AppointmentCancelledData.model_validate(
            {"appointment_id": str(uuid.uuid4()), "cancelled_by": "patient", "late": False}
        ),
        producer=producer,
        pcn_code=pcn_code,
        practice_ods="Y01234",
        correlation_id=uuid.uuid4(),
    )


def test_refusal_reasons_hold_no_submitted_value() -> None:
    """Reasons become dead-letter headers: only validated names (the broker's user, catalogue types)."""
    event = call_received(producer="Y01234/zz-secret-system-name")
    reason = _refusal("practice-y01235", event)
    assert "zz-secret" not in reason
    assert event.data.patient.nhs_number not in reason


async def test_a_service_whose_trust_code_is_not_the_directorys_refuses_to_start() -> None:
    """Else every consumer would dead-letter the trust's own services' events as from the wrong producer."""
    from shared.db import Database
    from shared.identity.settings import IdentitySettings
    from shared.service import ServiceHost
    from shared.settings import ServiceSettings
    from tests.support.identity import DEMO_ORGANISATIONS

    host = ServiceHost(
        name="probe",
        settings=ServiceSettings(trust_code="RXX", database_url="sqlite+aiosqlite:///:memory:"),
        db=Database("sqlite+aiosqlite:///:memory:", []),
        identity=IdentitySettings(mhp_organisations_file=DEMO_ORGANISATIONS),
    )
    with pytest.raises(
        RuntimeError, match="MHP_TRUST_CODE is RXX; the organisation directory's trust is RMH"
    ):
        await host.start()


@pytest.mark.parametrize("user", ["pcn-u00123", "practice-y01234", "partner-rxy"])
def test_no_other_sender_may_name_a_platform_service_as_its_system(user: str) -> None:
    """Booking and referrals skip their own events by producer: a practice calling itself booking is not."""
    org = {"pcn-u00123": "U00123", "practice-y01234": "Y01234", "partner-rxy": "RXY"}[user]
    if user == "partner-rxy":
        event: Envelope[Any] = _referral_response(f"{org}/referrals")
    else:
        event = _appointment_event(f"{org}/booking", PCN)
    assert _refusal(user, event) == f"{user} may not name a platform service as its system"


@pytest.mark.parametrize("partner", ["partner-rmh", "partner-u00123", "partner-y01234"])
def test_a_partner_user_cannot_stand_for_the_trust_a_pcn_or_a_practice(partner: str) -> None:
    org = partner.removeprefix("partner-").upper()
    event = _referral_response(f"{org}/referrals" if org == "RMH" else f"{org}/crisis")
    assert _refusal(partner, event) == f"{partner} names an organisation that is not a receiving service"


def test_a_receiving_service_answers_under_its_own_name() -> None:
    assert CHECK.check("partner-rxy", _referral_response("RXY/crisis")).org == "RXY"


def _referral_response(producer: str) -> Envelope[Any]:
    return ReferralAccepted.create(
        ReferralAcceptedData(referral_id=uuid.uuid4()),
        producer=producer,
        pcn_code=PCN,
        practice_ods="Y01234",
        correlation_id=uuid.uuid4(),
    )
