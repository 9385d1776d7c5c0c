"""Pure booking rules: slot cutting, London wall-clock time across the BST changes, weeks, rota files."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from services.booking.domain.allocation import slots_needed
from services.booking.domain.follow_up import follow_up_type
from services.booking.domain.rota import SLOT, SlotKind, plan_slots, week_bounds
from services.booking.entrypoints.rota_file import RotaFileError, parse_rota
from shared.contracts.codes import AppointmentType, Modality, SessionPeriod
from shared.working_time import LONDON

from ..conftest import entry


def test_a_session_is_cut_into_30_minute_slots_ending_with_an_admin_slot() -> None:
    slots = plan_slots(entry(modalities=(Modality.TELEPHONE, Modality.VIDEO)))
    assert len(slots) == 7
    assert all((s.ends_at - s.starts_at) == SLOT for s in slots)
    assert [s.kind for s in slots] == [SlotKind.CLINICAL] * 6 + [SlotKind.ADMIN]
    assert [s.modality for s in slots[:3]] == [Modality.TELEPHONE, Modality.VIDEO, Modality.TELEPHONE]
    assert slots[-1].modality is None


@pytest.mark.parametrize(
    ("day", "period", "utc_start"),
    [
        (date(2026, 3, 27), SessionPeriod.AM, datetime(2026, 3, 27, 9, 0, tzinfo=UTC)),  # Friday, GMT
        (date(2026, 3, 29), SessionPeriod.AM, datetime(2026, 3, 29, 8, 0, tzinfo=UTC)),  # change day: BST
        (date(2026, 3, 30), SessionPeriod.PM, datetime(2026, 3, 30, 12, 30, tzinfo=UTC)),  # Monday, BST
        (date(2026, 10, 23), SessionPeriod.AM, datetime(2026, 10, 23, 8, 0, tzinfo=UTC)),  # Friday, BST
        (date(2026, 10, 25), SessionPeriod.AM, datetime(2026, 10, 25, 9, 0, tzinfo=UTC)),  # change day: GMT
        (date(2026, 10, 26), SessionPeriod.PM, datetime(2026, 10, 26, 13, 30, tzinfo=UTC)),  # Monday, GMT
    ],
)
def test_slots_follow_london_wall_clock_across_the_bst_changes(
    day: date, period: SessionPeriod, utc_start: datetime
) -> None:
    slots = plan_slots(entry(day=day, period=period))
    assert slots[0].starts_at == utc_start
    assert slots[0].starts_at.astimezone(LONDON).hour == (9 if period is SessionPeriod.AM else 13)
    # A session on the change day still has seven 30-minute slots: the jump is at 01:00/02:00, not in hours.
    assert len(slots) == 7


def test_week_bounds_are_london_mondays_across_the_spring_change() -> None:
    start, end = week_bounds(datetime(2026, 3, 29, 12, 0, tzinfo=UTC))
    assert start == datetime(2026, 3, 23, 0, 0, tzinfo=UTC)  # Monday 00:00 GMT
    assert end == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)  # Monday 30 March 00:00 BST


def test_face_to_face_session_needs_a_room() -> None:
    with pytest.raises(ValidationError, match="room"):
        entry(modalities=(Modality.FACE_TO_FACE,))
    assert entry(modalities=(Modality.FACE_TO_FACE,), room="Room 2").room == "Room 2"


def test_complex_appointment_needs_two_slots() -> None:
    assert slots_needed(30) == 1
    assert slots_needed(60) == 2


def test_follow_up_after_initial_assessment_is_a_second_assessment() -> None:
    assert follow_up_type(AppointmentType.INITIAL_ASSESSMENT) is AppointmentType.SECOND_ASSESSMENT
    assert follow_up_type(AppointmentType.SECOND_ASSESSMENT) is AppointmentType.FOLLOW_UP


def test_rota_parses_from_csv_and_json() -> None:
    csv_text = (
        "pcn_code,practice_ods,session_date,period,clinician,modalities,room\n"
        "U00123,Y01234,2026-06-01,am,mhp-1,telephone;face_to_face,Room 1\n"
        "U00123,Y01234,2026-06-01,pm,mhp-1,video,\n"
    )
    rows = parse_rota(csv_text, "csv")
    assert [(r.period, r.modalities, r.room) for r in rows] == [
        (SessionPeriod.AM, (Modality.TELEPHONE, Modality.FACE_TO_FACE), "Room 1"),
        (SessionPeriod.PM, (Modality.VIDEO,), None),
    ]
    json_text = '{"sessions": [{"pcn_code": "U00123", "practice_ods": "Y01234", "session_date": "2026-06-01",'
    json_text += ' "period": "am", "clinician": "mhp-1", "modalities": ["telephone"]}]}'
    assert parse_rota(json_text, "json")[0].practice_ods == "Y01234"


def test_rota_file_errors_name_the_field() -> None:
    bad = "pcn_code,practice_ods,session_date,period,clinician,modalities\n"
    bad += "U00123,Y01234,2026-06-01,noon,m,video\n"
    with pytest.raises(RotaFileError, match="period"):
        parse_rota(bad, "csv")
