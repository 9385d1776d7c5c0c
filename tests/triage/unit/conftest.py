"""Unit-test fixtures: an in-memory unit of work and a context on the fake clock."""

from __future__ import annotations

import pytest

from services.triage.application.context import TriageContext
from tests.support.clock import FakeClock
from tests.triage.unit.fakes import SHIPPED_RED_FLAGS, FakeTriageUnitOfWork


@pytest.fixture
def uow() -> FakeTriageUnitOfWork:
    return FakeTriageUnitOfWork()


@pytest.fixture
def ctx(clock: FakeClock) -> TriageContext:
    return TriageContext(producer="RMH/triage", clock=clock, red_flags=SHIPPED_RED_FLAGS)
