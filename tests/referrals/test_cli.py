"""`mhp referrals check-directory`: a trust checks its directory file before deploying it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from services.referrals.adapters.directory_file import EXAMPLE_PATH
from services.referrals.cli import app


def test_check_directory_summarises_a_valid_file() -> None:
    result = CliRunner().invoke(app, ["check-directory", str(EXAMPLE_PATH)])
    assert result.exit_code == 0, result.output
    assert "U00123: 12 services in 9 kinds, 6 leads" in result.output


def test_check_directory_names_the_problem_in_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "directory.yaml"
    bad.write_text("pcns: {U00123: {destinations: {astrology: []}}}")
    result = CliRunner().invoke(app, ["check-directory", str(bad)])
    assert result.exit_code == 1
    assert "pcns.U00123.destinations.astrology" in result.output
