"""Read-side queries over the in-memory unit of work."""

from __future__ import annotations

import uuid

import pytest

from services.referrals.application import queries
from services.referrals.application.commands import ActOnTriageDecision, Cause, DeclineReferral
from services.referrals.application.context import ReferralsContext
from services.referrals.application.errors import ReferralNotFound
from services.referrals.application.handlers.referrals import act_on_triage_decision, decline_referral
from services.referrals.domain.episode import Episode
from shared.contracts.codes import Disposition, ReferralDeclineReason
from tests.referrals.unit.fakes import PCN, PRACTICE, FakeReferralsUnitOfWork


async def test_open_referrals_and_a_chain_with_its_bounce_backs(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    cause = Cause(uuid.uuid4(), Episode(PCN, PRACTICE, uuid.uuid4()))
    await act_on_triage_decision(
        ActOnTriageDecision(uuid.uuid4(), Disposition.REFER, None, None, cause), uow, ctx
    )
    [first] = uow.referrals.rows.values()
    await decline_referral(
        DeclineReferral(first.referral_id, ReferralDeclineReason.SERVICE_UNAVAILABLE), uow, ctx
    )
    [open_one] = await queries.open_referrals(uow, pcn_code=PCN)
    assert open_one.previous_referral_id == first.referral_id
    assert await queries.open_referrals(uow, pcn_code=PCN, practice_ods="Y99999") == []
    found = await queries.referral_chain(uow, first.referral_id)
    assert [r.service_code for r in found.chain] == ["cmht-east", "cmht-west"]
    assert found.bounce_backs == 1
    with pytest.raises(ReferralNotFound):
        await queries.referral_chain(uow, uuid.uuid4())
