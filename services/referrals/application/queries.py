"""Read-side queries for the API: open referrals, a referral with its re-routing chain, open follow-ups."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.referrals.application.errors import ReferralNotFound
from services.referrals.application.unit_of_work import ReferralsUnitOfWork
from services.referrals.domain.follow_up import DnaFollowUp
from services.referrals.domain.referral import Referral


@dataclass(frozen=True)
class ReferralChain:
    referral: Referral
    chain: list[Referral]
    """Every referral of the re-routing chain, oldest first."""

    @property
    def bounce_backs(self) -> int:
        return sum(1 for r in self.chain if r.declined_at is not None)


async def open_referrals(
    uow: ReferralsUnitOfWork,
    *,
    pcn_code: str,
    practice_ods: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[Referral]:
    """Made, accepted, or unplaced and waiting for the clinical lead; oldest first."""
    return await uow.referrals.open_in(pcn_code, practice_ods, offset=offset, limit=limit)


async def referral_chain(uow: ReferralsUnitOfWork, referral_id: uuid.UUID) -> ReferralChain:
    referral = await uow.referrals.get(referral_id)
    if referral is None:
        raise ReferralNotFound(referral_id)
    return ReferralChain(referral, await uow.referrals.chain(referral.root_referral_id))


async def open_follow_ups(
    uow: ReferralsUnitOfWork,
    *,
    pcn_code: str,
    practice_ods: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[DnaFollowUp]:
    """Open DNA follow-ups, soonest deadline first."""
    return await uow.follow_ups.open_in(pcn_code, practice_ods, offset=offset, limit=limit)


async def find_referral(uow: ReferralsUnitOfWork, referral_id: uuid.UUID) -> Referral | None:
    """The referral, to scope and audit a request for it before anything is changed."""
    return await uow.referrals.get(referral_id)


async def find_follow_up(uow: ReferralsUnitOfWork, follow_up_id: uuid.UUID) -> DnaFollowUp | None:
    return await uow.follow_ups.get(follow_up_id)
