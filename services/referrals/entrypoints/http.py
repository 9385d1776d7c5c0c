"""Referrals HTTP API for MHPs and clinical leads: open referrals and follow-ups, responses, outcomes.

Routes translate a request into a command or query and the result into a view; rules live in the domain.
Every route asks its action of `application/access.py` (403), scopes the referral or follow-up to the
caller's organisation (404) and writes the access audit; the acting clinician is the token's user.
"""

# No `from __future__ import annotations` here: the routes' `Depends(guard.requires(...))` names the
# router's own guard, which FastAPI can resolve only from annotations evaluated where they are written.

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, cast

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from services.referrals.adapters.unit_of_work import SqlReferralsUnitOfWork
from services.referrals.application import queries
from services.referrals.application.access import Action
from services.referrals.application.commands import (
    AcceptReferral,
    CompleteReferral,
    DeclineReferral,
    RecordFollowUpOutcome,
    RedirectReferral,
)
from services.referrals.application.context import ReferralsContext
from services.referrals.application.errors import FollowUpNotFound, ReferralNotFound
from services.referrals.application.handlers.follow_ups import record_follow_up_outcome
from services.referrals.application.handlers.referrals import (
    accept_referral,
    complete_referral,
    decline_referral,
    redirect_referral,
)
from services.referrals.domain.follow_up import InvalidOutcome
from services.referrals.domain.lifecycle import InvalidTransition
from services.referrals.entrypoints.guard import Guard, audit_entry, list_scope
from services.referrals.entrypoints.views import (
    DeclineRequest,
    FollowUpOutcomeRequest,
    FollowUpView,
    RedirectRequest,
    ReferralDetail,
    ReferralView,
    ResponseRequest,
)
from shared.audit import AuditAction
from shared.contracts.envelope import PcnCode, PracticeOds
from shared.db import Database
from shared.http.paging import Page, page_of
from shared.identity import OrganisationDirectory, Principal, TokenVerifier, not_found

__all__ = ["build_router"]

C, U, E = AuditAction.CREATE, AuditAction.UPDATE, AuditAction.EXECUTE


@asynccontextmanager
async def answering() -> AsyncIterator[None]:
    """Domain errors as HTTP answers: unknown ids 404, broken rules 409, a missing companion field 422."""
    try:
        yield
    except (ReferralNotFound, FollowUpNotFound):
        # The same answer as for another organisation's: an id's existence is not revealed.
        raise not_found() from None
    except InvalidOutcome as exc:
        raise HTTPException(
            422, detail=[{"loc": ["body", exc.field], "msg": exc.message, "type": "value_error"}]
        ) from None
    except InvalidTransition as exc:
        raise HTTPException(409, detail=exc.reason) from None


PcnQuery = Annotated[PcnCode | None, Query(description="PCN code, e.g. U00123; default the caller's PCN")]
PracticeQuery = Annotated[
    PracticeOds | None,
    Query(description="Practice ODS code; a clinical lead sees only their own practice (the default)"),
]


def _directory(request: Request) -> OrganisationDirectory:
    # The organisation directory the tokens were verified against: one tree of ODS codes for all services.
    return cast(TokenVerifier, request.app.state.verifier).directory


def build_router(db: Database, ctx: ReferralsContext) -> APIRouter:
    router = APIRouter(tags=["referrals"])
    guard = Guard(db)

    @router.get("/referrals", response_model=list[ReferralView])
    async def get_open_referrals(
        request: Request,
        response: Response,
        principal: Annotated[Principal, Depends(guard.requires(Action.LIST_REFERRALS, "referral.list", E))],
        page: Page,
        pcn: PcnQuery = None,
        practice: PracticeQuery = None,
    ) -> list[ReferralView]:
        """Open referrals in a PCN or practice (made, accepted, or unplaced and waiting for the lead)."""
        pcn_code, practice_ods = list_scope(principal, pcn, practice, _directory(request))
        async with SqlReferralsUnitOfWork.reading(db) as uow:
            rows = await queries.open_referrals(
                uow, pcn_code=pcn_code, practice_ods=practice_ods, offset=page.offset, limit=page.fetch
            )
        shown = page_of(rows, page, request, response)
        await guard.listed(principal, shown, "referral.list")
        return [ReferralView.of(r) for r in shown]

    @router.get("/referrals/{referral_id}", response_model=ReferralDetail)
    async def get_referral(
        referral_id: uuid.UUID,
        principal: Annotated[
            Principal, Depends(guard.requires(Action.READ_REFERRAL, "referral.read", AuditAction.READ))
        ],
    ) -> ReferralDetail:
        """A referral with its whole re-routing chain."""
        async with answering(), SqlReferralsUnitOfWork.reading(db) as uow:
            found = await queries.referral_chain(uow, referral_id)
        await guard.read(principal, found.referral, "referral.read")
        return ReferralDetail(
            **ReferralView.of(found.referral).model_dump(),
            bounce_backs=found.bounce_backs,
            chain=[ReferralView.of(r) for r in found.chain],
        )

    @router.post("/referrals/{referral_id}/accept", response_model=ReferralView)
    async def accept(
        referral_id: uuid.UUID,
        principal: Annotated[
            Principal, Depends(guard.requires(Action.RECORD_RESPONSE, "referral.accept", U))
        ],
        body: ResponseRequest | None = None,
    ) -> ReferralView:
        """Record that the receiving service accepted the referral."""
        await guard.referral(principal, referral_id, "referral.accept", U)
        async with answering(), SqlReferralsUnitOfWork.begin(db) as uow:
            referral = await accept_referral(AcceptReferral(referral_id), uow, ctx)
            uow.audit(audit_entry(principal, referral, "referral.accept", U))
        return ReferralView.of(referral)

    @router.post("/referrals/{referral_id}/decline", response_model=ReferralView)
    async def decline(
        referral_id: uuid.UUID,
        body: DeclineRequest,
        principal: Annotated[
            Principal, Depends(guard.requires(Action.RECORD_RESPONSE, "referral.decline", U))
        ],
    ) -> ReferralView:
        """Record the receiving service's decline: the referral is re-routed and the clinical lead told."""
        await guard.referral(principal, referral_id, "referral.decline", U)
        async with answering(), SqlReferralsUnitOfWork.begin(db) as uow:
            command = DeclineReferral(referral_id, body.reason_code, body.reason)
            referral = await decline_referral(command, uow, ctx)
            uow.audit(audit_entry(principal, referral, "referral.decline", U))
            if referral.rerouted_to is not None:
                uow.audit(
                    audit_entry(principal, referral, "referral.reroute", C, resource_id=referral.rerouted_to)
                )
        return ReferralView.of(referral)

    @router.post("/referrals/{referral_id}/complete", response_model=ReferralView)
    async def complete(
        referral_id: uuid.UUID,
        principal: Annotated[
            Principal, Depends(guard.requires(Action.RECORD_RESPONSE, "referral.complete", U))
        ],
        body: ResponseRequest | None = None,
    ) -> ReferralView:
        """Record that the receiving service completed the episode of care it accepted."""
        await guard.referral(principal, referral_id, "referral.complete", U)
        async with answering(), SqlReferralsUnitOfWork.begin(db) as uow:
            referral = await complete_referral(CompleteReferral(referral_id), uow, ctx)
            uow.audit(audit_entry(principal, referral, "referral.complete", U))
        return ReferralView.of(referral)

    @router.post("/referrals/{referral_id}/redirect", response_model=ReferralView, status_code=201)
    async def redirect(
        referral_id: uuid.UUID,
        body: RedirectRequest,
        principal: Annotated[
            Principal, Depends(guard.requires(Action.REDIRECT_REFERRAL, "referral.redirect", U))
        ],
    ) -> ReferralView:
        """Send an unplaced referral to another kind of service; the redirecting clinician is the caller."""
        unplaced = await guard.referral(principal, referral_id, "referral.redirect", U)
        command = RedirectReferral(referral_id, body.destination, principal.user_id)
        async with answering(), SqlReferralsUnitOfWork.begin(db) as uow:
            rerouted = await redirect_referral(command, uow, ctx)
            uow.audit(audit_entry(principal, unplaced, "referral.redirect", U))
            uow.audit(audit_entry(principal, rerouted, "referral.reroute", C))
        return ReferralView.of(rerouted)

    @router.get("/follow-ups", response_model=list[FollowUpView])
    async def get_open_follow_ups(
        request: Request,
        response: Response,
        principal: Annotated[Principal, Depends(guard.requires(Action.LIST_FOLLOW_UPS, "follow_up.list", E))],
        page: Page,
        pcn: PcnQuery = None,
        practice: PracticeQuery = None,
    ) -> list[FollowUpView]:
        """Open DNA follow-ups in a PCN or practice, soonest deadline first."""
        pcn_code, practice_ods = list_scope(principal, pcn, practice, _directory(request))
        async with SqlReferralsUnitOfWork.reading(db) as uow:
            rows = await queries.open_follow_ups(
                uow, pcn_code=pcn_code, practice_ods=practice_ods, offset=page.offset, limit=page.fetch
            )
        shown = page_of(rows, page, request, response)
        await guard.listed(principal, shown, "follow_up.list")
        return [FollowUpView.of(f) for f in shown]

    @router.post("/follow-ups/{follow_up_id}/outcome", response_model=FollowUpView)
    async def post_outcome(
        follow_up_id: uuid.UUID,
        body: FollowUpOutcomeRequest,
        principal: Annotated[
            Principal, Depends(guard.requires(Action.RECORD_FOLLOW_UP_OUTCOME, "follow_up.outcome", U))
        ],
    ) -> FollowUpView:
        """Record the DNA follow-up's outcome (publishes dna.followed_up); the recorder is the caller."""
        await guard.follow_up(principal, follow_up_id, "follow_up.outcome", U)
        command = RecordFollowUpOutcome(follow_up_id, body.outcome, principal.user_id, body.signposted_to)
        async with answering(), SqlReferralsUnitOfWork.begin(db) as uow:
            follow_up = await record_follow_up_outcome(command, uow, ctx)
            uow.audit(audit_entry(principal, follow_up, "follow_up.outcome", U))
        return FollowUpView.of(follow_up)

    return router
