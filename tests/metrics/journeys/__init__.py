"""Seeded synthetic patient journeys for the metrics tests, the events they publish, and the monthly return
computed independently from the journeys themselves (never from the events or the service's code).

`model` holds the journey's shape and the month, `generate` makes journeys, `events` turns them into
contract events, `expected` computes the ground-truth return.
"""

from tests.metrics.journeys.events import events
from tests.metrics.journeys.expected import expected_figures, expected_return
from tests.metrics.journeys.generate import generate
from tests.metrics.journeys.model import (
    AS_OF,
    LONDON,
    MONTH,
    PCNS,
    WINDOW,
    Appointment,
    Journey,
    Referral,
    Session,
)

__all__ = [
    "AS_OF",
    "LONDON",
    "MONTH",
    "PCNS",
    "WINDOW",
    "Appointment",
    "Journey",
    "Referral",
    "Session",
    "events",
    "expected_figures",
    "expected_return",
    "generate",
]
