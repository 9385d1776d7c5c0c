"""Referrals' SQL: each repository maps its table's rows to the domain's aggregates and back.

The domain's dataclasses have the tables' column names, so a row and its aggregate convert field by
field (enums stored as their values).
"""

from __future__ import annotations

import uuid
from dataclasses import fields
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from sqlmodel import SQLModel, col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.referrals.adapters import tables
from services.referrals.domain.follow_up import DnaEpisode, DnaFollowUp, FollowUpStatus
from services.referrals.domain.lifecycle import OPEN_STATUSES, ReferralStatus
from services.referrals.domain.referral import Referral
from services.referrals.domain.signpost import Signpost
from shared.contracts.codes import Destination, SignpostOutcome

T = TypeVar("T")


def _columns(aggregate: Any) -> dict[str, Any]:
    return {
        f.name: value.value if isinstance(value := getattr(aggregate, f.name), Enum) else value
        for f in fields(aggregate)
    }


def _aggregate(cls: type[T], row: SQLModel) -> T:
    return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})  # type: ignore[arg-type]


class _Rows:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _add(self, table: type[SQLModel], aggregate: Any) -> None:
        self.session.add(table(**_columns(aggregate)))

    async def _save(self, table: type[SQLModel], aggregate: Any) -> None:
        # The row read for this aggregate is in the session: merge copies the new values onto it.
        await self.session.merge(table(**_columns(aggregate)))


class SqlReferralRepository(_Rows):
    async def get(self, referral_id: uuid.UUID) -> Referral | None:
        row = await self.session.get(tables.Referral, referral_id)
        return _aggregate(Referral, row) if row is not None else None

    async def add(self, referral: Referral) -> None:
        self._add(tables.Referral, referral)

    async def save(self, referral: Referral) -> None:
        await self._save(tables.Referral, referral)

    async def services_tried(self, root_referral_id: uuid.UUID) -> set[str]:
        query = select(tables.Referral.service_code).where(
            tables.Referral.root_referral_id == root_referral_id
        )
        return {code for code in (await self.session.exec(query)).all() if code is not None}

    async def first_made_for_call(self, call_id: uuid.UUID, destination: Destination) -> bool:
        return await self._first_exists(
            (col(tables.Referral.call_id) == call_id) & (tables.Referral.destination == destination.value)
        )

    async def first_made_for_appointment(self, appointment_id: uuid.UUID) -> bool:
        return await self._first_exists(col(tables.Referral.appointment_id) == appointment_id)

    async def open_from_triage(self, call_id: uuid.UUID) -> list[Referral]:
        query = select(tables.Referral).where(
            (col(tables.Referral.call_id) == call_id)
            & col(tables.Referral.appointment_id).is_(None)
            & col(tables.Referral.status).in_([s.value for s in OPEN_STATUSES])
        )
        return [_aggregate(Referral, row) for row in (await self.session.exec(query)).all()]

    async def _first_exists(self, condition: Any) -> bool:
        query = select(tables.Referral.referral_id).where(
            condition & col(tables.Referral.previous_referral_id).is_(None)
        )
        return (await self.session.exec(query)).first() is not None

    async def chain(self, root_referral_id: uuid.UUID) -> list[Referral]:
        query = (
            select(tables.Referral)
            .where(tables.Referral.root_referral_id == root_referral_id)
            .order_by(col(tables.Referral.made_at), col(tables.Referral.declined_at))
        )
        return [_aggregate(Referral, row) for row in (await self.session.exec(query)).all()]

    async def open_in(
        self, pcn_code: str, practice_ods: str | None, *, offset: int = 0, limit: int | None = None
    ) -> list[Referral]:
        query = select(tables.Referral).where(
            (col(tables.Referral.pcn_code) == pcn_code)
            & col(tables.Referral.status).in_([s.value for s in OPEN_STATUSES])
        )
        if practice_ods:
            query = query.where(tables.Referral.practice_ods == practice_ods)
        # The id breaks ties so that a page boundary never repeats or skips a referral.
        query = query.order_by(col(tables.Referral.made_at), col(tables.Referral.referral_id))
        rows = (await self.session.exec(query.offset(offset).limit(limit))).all()
        return [_aggregate(Referral, row) for row in rows]

    async def due_for_chase(self, now: datetime, limit: int) -> list[Referral]:
        query = (
            select(tables.Referral)
            .where(
                (col(tables.Referral.status) == ReferralStatus.MADE.value)
                & col(tables.Referral.chased_at).is_(None)
                & (col(tables.Referral.response_due_at) < now)
            )
            .order_by(col(tables.Referral.response_due_at))
            .limit(limit)
        )
        return [_aggregate(Referral, row) for row in (await self.session.exec(query)).all()]

    async def claim_chase(self, referral: Referral) -> bool:
        result = await self.session.exec(
            update(tables.Referral)
            .where(
                (col(tables.Referral.referral_id) == referral.referral_id)
                & col(tables.Referral.chased_at).is_(None)
                & (col(tables.Referral.status) == ReferralStatus.MADE.value)
            )
            .values(chased_at=referral.chased_at, chase_event_id=referral.chase_event_id)
        )
        return bool(result.rowcount == 1)


class SqlSignpostRepository(_Rows):
    async def add(self, signpost: Signpost) -> None:
        self._add(tables.Signpost, signpost)

    async def recorded_for_call(
        self, call_id: uuid.UUID, destination: Destination, outcome: SignpostOutcome
    ) -> bool:
        query = select(tables.Signpost.signpost_id).where(
            (tables.Signpost.call_id == call_id)
            & (tables.Signpost.destination == destination.value)
            & (tables.Signpost.outcome == outcome.value)
        )
        return (await self.session.exec(query)).first() is not None


class SqlFollowUpRepository(_Rows):
    async def get(self, follow_up_id: uuid.UUID) -> DnaFollowUp | None:
        row = await self.session.get(tables.DnaFollowUp, follow_up_id)
        return _aggregate(DnaFollowUp, row) if row is not None else None

    async def add(self, follow_up: DnaFollowUp) -> None:
        self._add(tables.DnaFollowUp, follow_up)

    async def save(self, follow_up: DnaFollowUp) -> None:
        await self._save(tables.DnaFollowUp, follow_up)

    async def opened_for_appointment(self, appointment_id: uuid.UUID) -> bool:
        query = select(tables.DnaFollowUp.follow_up_id).where(
            tables.DnaFollowUp.appointment_id == appointment_id
        )
        return (await self.session.exec(query)).first() is not None

    async def open_in(
        self, pcn_code: str, practice_ods: str | None, *, offset: int = 0, limit: int | None = None
    ) -> list[DnaFollowUp]:
        query = select(tables.DnaFollowUp).where(
            (tables.DnaFollowUp.pcn_code == pcn_code)
            & (tables.DnaFollowUp.status == FollowUpStatus.OPEN.value)
        )
        if practice_ods:
            query = query.where(tables.DnaFollowUp.practice_ods == practice_ods)
        query = query.order_by(col(tables.DnaFollowUp.due_at), col(tables.DnaFollowUp.follow_up_id))
        rows = (await self.session.exec(query.offset(offset).limit(limit))).all()
        return [_aggregate(DnaFollowUp, row) for row in rows]

    async def due_for_escalation(self, now: datetime, limit: int) -> list[DnaFollowUp]:
        query = (
            select(tables.DnaFollowUp)
            .where(
                (col(tables.DnaFollowUp.status) == FollowUpStatus.OPEN.value)
                & col(tables.DnaFollowUp.escalated_at).is_(None)
                & (col(tables.DnaFollowUp.due_at) < now)
            )
            .order_by(col(tables.DnaFollowUp.due_at))
            .limit(limit)
        )
        return [_aggregate(DnaFollowUp, row) for row in (await self.session.exec(query)).all()]

    async def claim_escalation(self, follow_up: DnaFollowUp) -> bool:
        result = await self.session.exec(
            update(tables.DnaFollowUp)
            .where(
                (col(tables.DnaFollowUp.follow_up_id) == follow_up.follow_up_id)
                & col(tables.DnaFollowUp.escalated_at).is_(None)
                & (col(tables.DnaFollowUp.status) == FollowUpStatus.OPEN.value)
            )
            .values(escalated_at=follow_up.escalated_at, escalation_event_id=follow_up.escalation_event_id)
        )
        return bool(result.rowcount == 1)


class SqlDnaEpisodeRepository(_Rows):
    async def get(self, correlation_id: uuid.UUID) -> DnaEpisode | None:
        row = await self.session.get(tables.DnaEpisode, correlation_id)
        return _aggregate(DnaEpisode, row) if row is not None else None

    async def save(self, episode: DnaEpisode) -> None:
        await self._save(tables.DnaEpisode, episode)
