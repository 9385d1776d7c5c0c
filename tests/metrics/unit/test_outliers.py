"""Outlier flags: mean ± 2 SD and Tukey's fences, each named; nothing with too few or identical PCNs."""

from __future__ import annotations

from services.metrics.domain.kinds import OutlierFlag
from services.metrics.domain.outliers import outliers


def test_a_low_outlier_is_flagged_low_by_both_rules() -> None:
    rates: dict[str, float | None] = {f"U0000{i}": 0.50 + i * 0.005 for i in range(7)}
    rates["U00009"] = 0.01
    flags = outliers(rates)
    assert flags["U00009"] == [OutlierFlag.SD_LOW, OutlierFlag.IQR_LOW]
    assert all(not flags[p] for p in rates if p != "U00009")


def test_identical_rates_flag_nobody() -> None:
    assert outliers({"U00001": 0.2, "U00002": 0.2, "U00003": 0.2}) == {
        "U00001": [],
        "U00002": [],
        "U00003": [],
    }


def test_pcns_without_a_rate_are_listed_unflagged_and_do_not_count() -> None:
    flags = outliers({"U00001": 0.1, "U00002": 0.9, "U00003": None, "U00004": None})
    assert flags == {"U00001": [], "U00002": [], "U00003": [], "U00004": []}


def test_tukey_flags_what_two_sd_misses_in_a_small_group() -> None:
    # With four PCNs a single extreme value cannot pass mean + 2 SD, but it is outside Q3 + 1.5 IQR.
    flags = outliers({"U00001": 0.10, "U00002": 0.11, "U00003": 0.12, "U00004": 0.90})
    assert flags["U00004"] == [OutlierFlag.IQR_HIGH]
