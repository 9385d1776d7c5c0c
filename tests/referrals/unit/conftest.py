"""Unit-test fixtures: an in-memory unit of work, a clock and a context on a small directory."""

from __future__ import annotations

import pytest

from services.referrals.application.context import ReferralsContext
from tests.referrals.unit.fakes import FakeReferralsUnitOfWork, context
from tests.support.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def uow() -> FakeReferralsUnitOfWork:
    return FakeReferralsUnitOfWork()


@pytest.fixture
def ctx(clock: FakeClock) -> ReferralsContext:
    return context(clock)
