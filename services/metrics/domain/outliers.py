"""Variation between PCNs: which PCNs lie outside mean ± 2 SD and outside Tukey's fences."""

from __future__ import annotations

import statistics
from collections.abc import Mapping

from services.metrics.domain.kinds import OutlierFlag

MIN_PCNS = 3
"""With fewer PCNs neither rule means anything."""

FLAG_RULES: dict[str, str] = {
    "2sd_high/2sd_low": "outside the mean ± 2 population standard deviations of all PCNs",
    "iqr_high/iqr_low": "outside Tukey's fences: Q1 - 1.5 IQR, Q3 + 1.5 IQR",
}


def outliers(values: Mapping[str, float | None]) -> dict[str, list[str]]:
    """PCNs outside mean ± 2 SD (population SD) and outside Tukey's fences (Q1 - 1.5 IQR, Q3 + 1.5 IQR).

    Returns, per PCN, which rules flag it ("2sd_high", "2sd_low", "iqr_high", "iqr_low").
    """
    present = {k: v for k, v in values.items() if v is not None}
    flags: dict[str, list[str]] = {k: [] for k in values}
    if len(present) < MIN_PCNS:
        return flags
    data = sorted(present.values())
    mean = statistics.fmean(data)
    sd = statistics.pstdev(data)
    q1, _, q3 = statistics.quantiles(data, n=4, method="inclusive")
    iqr = q3 - q1
    for pcn, v in present.items():
        if sd > 0 and v > mean + 2 * sd:
            flags[pcn].append(OutlierFlag.SD_HIGH.value)
        if sd > 0 and v < mean - 2 * sd:
            flags[pcn].append(OutlierFlag.SD_LOW.value)
        if v > q3 + 1.5 * iqr:
            flags[pcn].append(OutlierFlag.IQR_HIGH.value)
        if v < q1 - 1.5 * iqr:
            flags[pcn].append(OutlierFlag.IQR_LOW.value)
    return flags
