"""Triage configuration from the environment: working hours and callback targets per channel and PCN."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from services.triage.settings import TriageSettings
from shared.contracts.codes import Channel


def test_working_hours_and_per_pcn_targets_are_read_from_triage_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIAGE_WORKING_HOURS_OPENS", "09:00")
    monkeypatch.setenv("TRIAGE_WORKING_HOURS_CLOSES", "17:00")
    monkeypatch.setenv("TRIAGE_PCN_CALLBACK_TARGETS", '{"U00777": {"telephone": "1h"}}')
    policy = TriageSettings().callback_policy()
    friday_4pm = datetime(2026, 11, 20, 16, tzinfo=UTC)
    assert policy.callback_due("U00777", Channel.TELEPHONE, friday_4pm) == datetime(
        2026, 11, 20, 17, tzinfo=UTC
    )
    assert policy.callback_due("U00123", Channel.TELEPHONE, friday_4pm) == datetime(
        2026, 11, 23, 10, tzinfo=UTC
    )


def test_a_callback_target_that_is_not_a_duration_stops_the_service_at_start_up() -> None:
    with pytest.raises(ValidationError, match="callback target"):
        TriageSettings(callback_targets={Channel.TELEPHONE: "soon"})


def test_working_hours_that_close_before_they_open_are_refused() -> None:
    with pytest.raises(ValidationError, match="open before they close"):
        TriageSettings(working_hours_opens="19:00", working_hours_closes="08:00")


def test_the_shared_working_calendar_is_read_from_triage_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIAGE_WORKING_WEEKDAYS", "[0, 1, 2, 3]")  # no Fridays
    monkeypatch.setenv("TRIAGE_CLOSED_DAYS", '["2026-11-23"]')
    monkeypatch.setenv("TRIAGE_BANK_HOLIDAYS_FILE", "")
    policy = TriageSettings().callback_policy()
    thursday_6pm = datetime(2026, 11, 19, 18, tzinfo=UTC)
    # 30 minutes on Thursday, then Friday, the weekend and the closed Monday pass: Tuesday 09:30.
    assert policy.callback_due("U00123", Channel.TELEPHONE, thursday_6pm) == datetime(
        2026, 11, 24, 9, 30, tzinfo=UTC
    )


def test_england_and_wales_bank_holidays_are_closed_by_default() -> None:
    policy = TriageSettings().callback_policy()
    christmas_eve_6pm = datetime(2026, 12, 24, 18, tzinfo=UTC)
    # Christmas Day, the weekend and the Boxing Day substitute (Monday 28th) are closed.
    assert policy.callback_due("U00123", Channel.TELEPHONE, christmas_eve_6pm) == datetime(
        2026, 12, 29, 9, 30, tzinfo=UTC
    )
