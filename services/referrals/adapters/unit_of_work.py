"""`SqlReferralsUnitOfWork`: referrals' repositories over one session, events staged in its outbox."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.referrals.adapters.case_repositories import SqlCallDecisionRepository
from services.referrals.adapters.escalation_repositories import SqlEscalationRepository
from services.referrals.adapters.repositories import (
    SqlDnaEpisodeRepository,
    SqlFollowUpRepository,
    SqlReferralRepository,
    SqlSignpostRepository,
)
from shared.unit_of_work import SqlUnitOfWork


class SqlReferralsUnitOfWork(SqlUnitOfWork):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.referrals = SqlReferralRepository(session)
        self.signposts = SqlSignpostRepository(session)
        self.follow_ups = SqlFollowUpRepository(session)
        self.dna_episodes = SqlDnaEpisodeRepository(session)
        self.decisions = SqlCallDecisionRepository(session)
        self.escalations = SqlEscalationRepository(session)
