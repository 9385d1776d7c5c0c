"""Referrals settings come from `REFERRALS_*` variables and are checked at start-up."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from services.referrals.settings import ReferralsSettings


def test_settings_read_the_referrals_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFERRALS_CHASE_AFTER_WORKING_DAYS", "3")
    monkeypatch.setenv("REFERRALS_DNA_FOLLOW_UP_WORKING_DAYS", "1")
    monkeypatch.setenv("REFERRALS_CLOSED_DAYS", '["2026-12-25"]')
    monkeypatch.setenv("REFERRALS_BANK_HOLIDAYS_FILE", "")  # only the closed days named here
    settings = ReferralsSettings()
    assert settings.chase_after_working_days == 3
    assert settings.dna_follow_up_working_days == 1
    assert settings.working_calendar().closed_days == frozenset({date(2026, 12, 25)})
    assert settings.http_port == 8003
    assert settings.database_url == "sqlite+aiosqlite:///var/referrals.db"


def test_settings_refuse_no_working_days_and_a_zero_chase() -> None:
    with pytest.raises(ValidationError, match="at least one working weekday"):
        ReferralsSettings(working_weekdays=[])
    with pytest.raises(ValidationError, match="chase_after_working_days"):
        ReferralsSettings(chase_after_working_days=0)
