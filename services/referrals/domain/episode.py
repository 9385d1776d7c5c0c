"""Where a record sits: the PCN, the practice and the episode (correlation id) every event names."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Episode:
    pcn_code: str
    practice_ods: str
    correlation_id: uuid.UUID
