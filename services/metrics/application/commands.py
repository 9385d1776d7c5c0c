"""What metrics can be asked to do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.contracts.envelope import Envelope

ProgressCallback = Callable[[int, int], None]
"""Called with (events replayed so far, events in the archive)."""


@dataclass(frozen=True)
class ArchiveEvent:
    """Keep a consumed event (redacted) and fold it into its projection.

    `event` is the contract model `shared.contracts.registry.parse_event` validated: metrics keeps nothing
    that did not pass its contract.
    """

    event: Envelope[Any]


@dataclass(frozen=True)
class RebuildProjections:
    """Replay the whole archive, in consumption order, into fresh projections."""

    chunk: int = 20_000
    progress: ProgressCallback | None = None
