"""The earliest-slot search in SQL (`domain.allocation.first_fit` is the rule it answers at scale).

Filters on (practice or PCN, status) and orders by start, so the composite index answers it and stops at
the first fit; held slots (`HeldSlots`) are a residual filter on the rows the index yields.
`benchmarks/booking_search.py` times it on a national-size rota.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.booking.adapters.tables import Slot
from services.booking.domain.allocation import HeldSlots, slots_needed
from services.booking.domain.rota import SlotKind, SlotStatus
from shared.contracts.codes import Modality


async def find_slots(
    session: AsyncSession,
    *,
    pcn_code: str,
    practice_ods: str | None,
    modality: Modality | None,
    minutes: int,
    not_before: datetime,
    starts_before: datetime | None,
    session_id: uuid.UUID | None = None,
    held: HeldSlots | None = None,
) -> list[Slot] | None:
    """The earliest free clinical slot(s) that fit: one slot, or two adjacent ones of one session."""
    first = aliased(Slot)
    conditions: list[Any] = [
        first.status == SlotStatus.FREE.value,
        first.kind == SlotKind.CLINICAL.value,
        first.starts_at >= not_before,
        first.practice_ods == practice_ods if practice_ods is not None else first.pcn_code == pcn_code,
    ]
    if starts_before is not None:
        conditions.append(first.starts_at < starts_before)
    if modality is not None:
        conditions.append(first.modality == modality.value)
    if session_id is not None:
        conditions.append(first.session_id == session_id)
    if held is not None:
        conditions.append(_not_held(first, held))
    if slots_needed(minutes) == 1:
        query = select(first).where(*conditions).order_by(col(first.starts_at)).limit(1)
        found = (await session.exec(query)).first()
        return [found] if found is not None else None
    second = aliased(Slot)
    pair_query = (
        select(first, second)
        .join(
            second,
            (col(second.session_id) == first.session_id)
            & (col(second.seq) == first.seq + 1)
            & (col(second.status) == SlotStatus.FREE.value)
            & (col(second.kind) == SlotKind.CLINICAL.value)
            & (_not_held(second, held) if held is not None else True),
        )
        .where(*conditions)
        .order_by(col(first.starts_at))
        .limit(1)
    )
    pair = (await session.exec(pair_query)).first()
    return [pair[0], pair[1]] if pair is not None else None


def _not_held(slot: Any, held: HeldSlots) -> Any:
    """`HeldSlots.allows` in SQL: past the held positions, or in a session already released."""
    released = [
        (col(slot.seq) == seq) & (col(slot.starts_at) <= latest) for seq, latest in held.release_bounds()
    ]
    return or_(col(slot.seq) >= held.per_session, *released)
