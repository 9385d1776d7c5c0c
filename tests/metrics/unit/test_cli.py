"""`mhp report --month` is bounded like the HTTP query: refused before any database is opened."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from services.metrics.cli import report

app = typer.Typer()
app.command()(report)


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "2026-13", "-2026-10", "1999-12"])
def test_report_refuses_a_month_outside_the_window(month: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METRICS_DATABASE_URL", "sqlite+aiosqlite:////nonexistent/never-opened.db")
    result = CliRunner().invoke(app, ["--pcn", "U00123", "--month", month])
    assert result.exit_code == 2
    assert "--month" in result.output
    assert "2000-01" in result.output or "YYYY-MM" in result.output
