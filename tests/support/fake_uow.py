"""The in-memory unit of work the services' unit tests build their fakes on (cosmicpython's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.contracts.envelope import Envelope


class FakeUnitOfWork:
    """Collects staged events and after-commit hooks; a service's fake adds in-memory repositories."""

    def __init__(self) -> None:
        self.events: list[Envelope[Any]] = []
        self.hooks: list[Callable[[], None]] = []

    def add_event(self, event: Envelope[Any]) -> None:
        self.events.append(event)

    def after_commit(self, hook: Callable[[], None]) -> None:
        self.hooks.append(hook)

    def events_of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]
