"""The privacy allow-list: identity and free text never reach the archive; a call keeps an age band."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from services.metrics.application.handlers.archive import archived
from services.metrics.domain.events import ENTITY_OF, UnknownEventType
from services.metrics.domain.kinds import AgeBand, EventType
from services.metrics.domain.privacy import ARCHIVED_FIELDS, age_band, age_in_years, redact
from shared.contracts.codes import SessionPeriod
from shared.contracts.envelope import Envelope
from shared.contracts.v1 import ALL_V1, CallReceivedData, SessionScheduled, SessionScheduledData
from shared.errors import RuleViolation
from tests.support.factories import call_received

AT = datetime(2026, 10, 5, 9, tzinfo=UTC)


def test_every_consumed_event_type_has_an_allow_list_and_a_fact() -> None:
    consumed = {cls.EVENT_TYPE for cls in ALL_V1}
    assert consumed == {t.value for t in EventType} == set(ARCHIVED_FIELDS) == set(ENTITY_OF)


def test_no_allow_list_names_an_identity_or_free_text_field() -> None:
    forbidden = {"patient", "nhs_number", "date_of_birth", "reason", "room", "clinician", "assigned_to"}
    forbidden |= {"acknowledged_by", "resolved_by", "note"}  # staff ids and free text beside an outcome
    for event_type, keep in ARCHIVED_FIELDS.items():
        if event_type in (EventType.CASE_ESCALATED, EventType.REFERRAL_WITHDRAWN):
            keep = keep - {"reason"}  # a code here: an EscalationReason, a ReferralWithdrawnReason
        assert not keep & forbidden, event_type


def test_a_received_call_keeps_channel_urgency_and_age_band_only() -> None:
    event = call_received(date_of_birth=date(2010, 1, 1), reason="cannot sleep since the move")
    record = archived(event)
    assert record.data == {
        "call_id": str(event.data.call_id),
        "channel": "telephone",
        "caller_urgency": "routine",
        "age_band": "under_18",
    }
    text = str(record.data)
    assert event.data.patient.nhs_number not in text
    assert "2010" not in text
    assert "sleep" not in text


def test_free_text_beside_a_session_is_dropped() -> None:
    event = SessionScheduled.create(
        SessionScheduledData(
            session_id=uuid.uuid4(),
            session_date=date(2026, 10, 5),
            period=SessionPeriod.AM,
            starts_at=AT,
            ends_at=AT.replace(hour=12),
            modalities=("telephone",),
            room="Room 3",
            clinician="mhp-001",
        ),
        producer="U00123/booking",
        pcn_code="U00123",
        practice_ods="Y01234",
        correlation_id=uuid.uuid4(),
    )
    data = archived(event).data
    assert "room" not in data
    assert "clinician" not in data
    assert set(data) == {"session_id", "session_date", "period", "starts_at", "ends_at", "modalities"}


def test_a_field_a_contract_gains_later_stays_out_until_reviewed() -> None:
    redacted = redact("appointment.cancelled", {"appointment_id": "a", "new_field": "x"}, AT)
    assert redacted == {"appointment_id": "a"}


def test_an_unknown_event_type_keeps_nothing() -> None:
    assert redact("something.new", {"call_id": "x"}, AT) == {}


def test_the_age_band_comes_from_the_validated_date_of_birth_not_the_payload() -> None:
    data = {"call_id": "c", "channel": "telephone", "patient": {"date_of_birth": "1950-01-01"}}
    assert "age_band" not in redact("call.received", data, AT)
    assert redact("call.received", data, AT, date_of_birth=date(1950, 1, 1))["age_band"] == "over_65"


@pytest.mark.parametrize(
    ("born", "years", "band"),
    [
        (date(2008, 10, 6), 17, AgeBand.UNDER_18),  # 18 tomorrow
        (date(2008, 10, 5), 18, AgeBand.ADULT),  # 18 today
        (date(1960, 10, 6), 65, AgeBand.ADULT),  # 66 tomorrow
        (date(1960, 10, 5), 66, AgeBand.OVER_65),  # 66 today
    ],
)
def test_age_bands_turn_on_the_birthday(born: date, years: int, band: AgeBand) -> None:
    on = date(2026, 10, 5)
    assert age_in_years(born, on) == years
    assert age_band(born, on) is band


def test_a_birth_after_the_call_gives_no_age_band() -> None:
    assert age_in_years(date(2026, 10, 6), date(2026, 10, 5)) is None
    assert age_band(date(2026, 10, 6), date(2026, 10, 5)) is None
    assert "age_band" not in redact(
        "call.received", {"call_id": "c"}, datetime(2001, 1, 1, tzinfo=UTC), date_of_birth=date(2020, 1, 1)
    )


class StrayCallReceived(Envelope[CallReceivedData]):
    """Shaped like a contract, but not the v1 class parse_event validates against."""

    EVENT_TYPE = "call.received"


def test_only_a_v1_contract_model_is_archived() -> None:
    event = call_received()
    stray = StrayCallReceived.model_construct(**dict(event))
    with pytest.raises(UnknownEventType) as refused:
        archived(stray)
    assert isinstance(refused.value, RuleViolation)
