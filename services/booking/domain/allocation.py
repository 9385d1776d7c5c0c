"""Slot allocation: which free slots an appointment may take, and in which order booking looks.

The earliest fitting slot wins: at the patient's own practice first, then anywhere in the PCN; a
60-minute (complex) appointment takes two adjacent slots of one session. Booking is by risk: the first
slots of each session are held for urgent (C/D) cases until shortly before it starts (`HeldSlots`), and a
routine case starts its search later in its window when urgent demand needs the earlier part
(`domain.urgency`). The SQL adapter answers the same question with an index; `first_fit` is the rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from services.booking.domain.rota import SLOT, SLOT_MINUTES, Slot
from shared.contracts.codes import Modality


def slots_needed(minutes: int) -> int:
    """A 60-minute (complex) appointment takes two adjacent slots."""
    return max(1, -(-minutes // SLOT_MINUTES))


def session_start_of(slot: Slot) -> datetime:
    """A session's slots follow each other from its start: slot `seq` starts seq x 30 minutes in."""
    return slot.starts_at - slot.seq * SLOT


@dataclass(frozen=True)
class HeldSlots:
    """What a routine case may not take: the first `per_session` clinical slots of every session, held
    for urgent cases until the session is near (it starts at or before `released_through`).

    The first slots, not spread ones: they are adjacent, so a complex (60-minute) urgent case can be
    booked into held capacity, and the urgent patient is seen at the start of the session, leaving the MHP
    the rest of it for the safety plan and onward calls. `seq < N` is also a plain predicate for SQL.
    """

    per_session: int
    released_through: datetime

    def allows(self, slot: Slot) -> bool:
        return slot.seq >= self.per_session or session_start_of(slot) <= self.released_through

    def release_bounds(self) -> list[tuple[int, datetime]]:
        """For each held position, the latest slot start already released (the same rule, for SQL)."""
        return [(seq, self.released_through + seq * SLOT) for seq in range(self.per_session)]


@dataclass(frozen=True)
class SlotQuery:
    """Free clinical slot(s) for one appointment: at a practice (or anywhere in the PCN), in a window."""

    pcn_code: str
    practice_ods: str | None  # None: anywhere in the PCN
    modality: Modality | None  # None: any modality (the appointment takes the slot's)
    minutes: int
    not_before: datetime
    starts_before: datetime | None = None
    session_id: uuid.UUID | None = None
    held: HeldSlots | None = None  # None: any free slot (an urgent case, or no capacity held)

    def may_take(self, slot: Slot) -> bool:
        """Whether the appointment may occupy `slot` at all: free, clinical, not held from it."""
        return slot.bookable and (self.held is None or self.held.allows(slot))

    def may_start(self, slot: Slot) -> bool:
        """Whether an appointment may start in `slot` (the second of two adjacent slots only `may_take`)."""
        return (
            self.may_take(slot)
            and slot.starts_at >= self.not_before
            and (
                slot.practice_ods == self.practice_ods
                if self.practice_ods is not None
                else slot.pcn_code == self.pcn_code
            )
            and (self.starts_before is None or slot.starts_at < self.starts_before)
            and (self.modality is None or slot.modality == self.modality)
            and (self.session_id is None or slot.session_id == self.session_id)
        )


def home_then_pcn(query: SlotQuery, home_practice_ods: str) -> list[SlotQuery]:
    """The search order: the patient's own practice, then anywhere in the PCN."""
    return [replace(query, practice_ods=home_practice_ods), replace(query, practice_ods=None)]


def first_fit(slots: Iterable[Slot], query: SlotQuery) -> list[Slot] | None:
    """The earliest slot (or two adjacent slots of one session) the query allows, if any."""
    ordered = sorted(slots, key=lambda s: s.starts_at)
    by_position = {(s.session_id, s.seq): s for s in ordered}
    for slot in ordered:
        if not query.may_start(slot):
            continue
        if slots_needed(query.minutes) == 1:
            return [slot]
        following = by_position.get((slot.session_id, slot.seq + 1))
        if following is not None and query.may_take(following):
            return [slot, following]
    return None


def appointment_modality(
    requested: Modality | None, slots: list[Slot], fallback: Modality = Modality.TELEPHONE
) -> Modality:
    """The requested modality; with none requested, the first slot's; an untyped slot gives the fallback."""
    return requested or slots[0].modality or fallback
