"""Callback deadlines: how long the MHP has to call back, per channel and PCN, in working hours."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from shared.contracts.codes import Channel
from shared.working_time import WorkingHours

MAX_TARGET_DAYS = 60
"""Longer is a configuration mistake; the bound also keeps deadline arithmetic short and in range."""


@dataclass(frozen=True)
class CallbackTarget:
    """How long the MHP has to call back, in working time: whole working days, then working minutes."""

    days: int = 0
    minutes: int = 0

    @classmethod
    def parse(cls, text: str) -> CallbackTarget:
        """`2h`, `90m`, `1d` or a sum such as `1d2h`."""
        match = re.fullmatch(r"\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*", text)
        if match is None or not any(match.groups()):
            raise ValueError(f"callback target {text!r} is not like 2h, 90m, 1d or 1d2h")
        days, hours, minutes = (int(g) if g else 0 for g in match.groups())
        if days == hours == minutes == 0:
            raise ValueError("a callback target must be longer than zero")
        if days > MAX_TARGET_DAYS or hours * 60 + minutes > MAX_TARGET_DAYS * 24 * 60:
            raise ValueError(f"a callback target must be at most {MAX_TARGET_DAYS} days")
        return cls(days=days, minutes=hours * 60 + minutes)


DEFAULT_CALLBACK_TARGETS: Mapping[Channel, CallbackTarget] = {
    Channel.TELEPHONE: CallbackTarget(minutes=120),
    Channel.WALK_IN: CallbackTarget(minutes=120),
    Channel.E_CONSULTATION: CallbackTarget(days=1),
    Channel.GP_TASK: CallbackTarget(days=1),
    Channel.DIRECT_BOOKING: CallbackTarget(days=1),
}


@dataclass(frozen=True)
class CallbackPolicy:
    """Callback targets per channel, with per-PCN overrides, measured in the given working hours."""

    hours: WorkingHours = field(default_factory=WorkingHours)
    targets: Mapping[Channel, CallbackTarget] = field(default_factory=lambda: dict(DEFAULT_CALLBACK_TARGETS))
    pcn_targets: Mapping[str, Mapping[Channel, CallbackTarget]] = field(default_factory=dict)

    def target(self, pcn_code: str, channel: Channel) -> CallbackTarget:
        override = self.pcn_targets.get(pcn_code, {})
        return override.get(channel) or self.targets.get(channel) or DEFAULT_CALLBACK_TARGETS[channel]

    def callback_due(self, pcn_code: str, channel: Channel, received_at: datetime) -> datetime:
        target = self.target(pcn_code, channel)
        return self.hours.add(received_at, days=target.days, minutes=target.minutes)


def deadline_breached(callback_due_at: datetime, now: datetime) -> bool:
    """The callback target is met up to and including its due instant; only later is a breach."""
    return now > callback_due_at
