"""Referrals HTTP API for MHPs and receiving services: open referrals and follow-ups, responses, outcomes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.referrals import domain
from services.referrals.handlers import (
    NotFound,
    ReferralsContext,
    open_follow_ups,
    open_referrals,
    record_follow_up_outcome,
    redirect_unplaced,
    referral_chain,
    respond,
)
from services.referrals.models import DnaFollowUp, Referral
from shared.contracts.codes import Destination, DnaFollowUpOutcome
from shared.contracts.envelope import PcnCode, PracticeOds, StaffId
from shared.db import Database


class ReferralView(BaseModel):
    referral_id: uuid.UUID
    correlation_id: uuid.UUID
    practice_ods: str
    destination: Destination
    destination_service: str | None = Field(description="The directory's service code; none when unplaced.")
    status: domain.ReferralStatus = Field(
        description="made, accepted, completed, declined (re-routed), unplaced (declined with nowhere "
        "left to send it, or no service of the kind: open for the practice's clinical lead) or redirected "
        "(the clinical lead sent it elsewhere)."
    )
    call_id: uuid.UUID | None
    appointment_id: uuid.UUID | None
    previous_referral_id: uuid.UUID | None
    rerouted_to: uuid.UUID | None
    made_at: datetime
    response_due_at: datetime | None
    accepted_at: datetime | None
    completed_at: datetime | None
    declined_at: datetime | None
    decline_reason: str | None
    chased_at: datetime | None = Field(description="When the unanswered referral was escalated.")
    needs_clinical_lead: bool


class ReferralDetail(ReferralView):
    bounce_backs: int = Field(description="Declines in this referral's re-routing chain.")
    chain: list[ReferralView] = Field(description="Every referral of the re-routing chain, oldest first.")


class DeclineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        description="Why the receiving service declines (no patient identifiers)."
    )


class ResponseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RedirectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    destination: Destination = Field(description="The kind of service to send the referral to instead.")
    clinician: StaffId = Field(description="The clinical lead redirecting it.")


class FollowUpView(BaseModel):
    follow_up_id: uuid.UUID
    appointment_id: uuid.UUID
    correlation_id: uuid.UUID
    practice_ods: str
    attendance: str
    opened_at: datetime
    due_at: datetime = Field(description="Contact must be attempted by then, or it is escalated.")
    status: str
    outcome: DnaFollowUpOutcome | None
    outcome_at: datetime | None
    signposted_to: Destination | None
    escalated_at: datetime | None


class FollowUpOutcomeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: DnaFollowUpOutcome
    clinician: StaffId = Field(description="The MHP recording the outcome.")
    signposted_to: Destination | None = Field(
        default=None, description="Required for contacted_and_signposted, refused otherwise."
    )


def _referral_view(r: Referral) -> ReferralView:
    return ReferralView(
        referral_id=r.referral_id,
        correlation_id=r.correlation_id,
        practice_ods=r.practice_ods,
        destination=Destination(r.destination),
        destination_service=r.service_code,
        status=domain.ReferralStatus(r.status),
        call_id=r.call_id,
        appointment_id=r.appointment_id,
        previous_referral_id=r.previous_referral_id,
        rerouted_to=r.rerouted_to,
        made_at=r.made_at,
        response_due_at=r.response_due_at,
        accepted_at=r.accepted_at,
        completed_at=r.completed_at,
        declined_at=r.declined_at,
        decline_reason=r.decline_reason,
        chased_at=r.chased_at,
        needs_clinical_lead=r.status == domain.ReferralStatus.UNPLACED,
    )


def _follow_up_view(f: DnaFollowUp) -> FollowUpView:
    return FollowUpView(
        follow_up_id=f.follow_up_id,
        appointment_id=f.appointment_id,
        correlation_id=f.correlation_id,
        practice_ods=f.practice_ods,
        attendance=f.attendance,
        opened_at=f.opened_at,
        due_at=f.due_at,
        status=f.status,
        outcome=DnaFollowUpOutcome(f.outcome) if f.outcome else None,
        outcome_at=f.outcome_at,
        signposted_to=Destination(f.signposted_to) if f.signposted_to else None,
        escalated_at=f.escalated_at,
    )


def _referral_not_found(referral_id: uuid.UUID) -> HTTPException:
    return HTTPException(404, detail=f"no referral {referral_id} was made by this service; check the id")


def _conflict(exc: domain.InvalidTransition) -> HTTPException:
    return HTTPException(409, detail=str(exc))


def build_router(db: Database, ctx: ReferralsContext) -> APIRouter:
    router = APIRouter(tags=["referrals"])

    @router.get("/referrals", response_model=list[ReferralView])
    async def get_open_referrals(
        pcn: Annotated[PcnCode, Query(description="PCN code, e.g. U00123")],
        practice: Annotated[PracticeOds | None, Query(description="Practice ODS code")] = None,
    ) -> list[ReferralView]:
        """Open referrals in a PCN (made, accepted, or unplaced and waiting for the clinical lead)."""
        async with db.read() as session:
            rows = await open_referrals(session, pcn_code=pcn, practice_ods=practice)
        return [_referral_view(r) for r in rows]

    @router.get("/referrals/{referral_id}", response_model=ReferralDetail)
    async def get_referral(referral_id: uuid.UUID) -> ReferralDetail:
        """A referral with its whole re-routing chain."""
        async with db.read() as session:
            try:
                referral, chain = await referral_chain(session, referral_id)
            except NotFound:
                raise _referral_not_found(referral_id) from None
        return ReferralDetail(
            **_referral_view(referral).model_dump(),
            bounce_backs=sum(1 for r in chain if r.declined_at is not None),
            chain=[_referral_view(r) for r in chain],
        )

    async def _respond(
        referral_id: uuid.UUID, response: domain.Response, reason: str | None = None
    ) -> ReferralView:
        try:
            async with db.transaction() as session:
                referral = await respond(session, ctx, referral_id, response, reason=reason)
        except NotFound:
            raise _referral_not_found(referral_id) from None
        except domain.InvalidTransition as exc:
            raise _conflict(exc) from None
        return _referral_view(referral)

    @router.post("/referrals/{referral_id}/accept", response_model=ReferralView)
    async def accept(referral_id: uuid.UUID, body: ResponseRequest | None = None) -> ReferralView:
        """The receiving service accepts the referral."""
        return await _respond(referral_id, domain.Response.ACCEPT)

    @router.post("/referrals/{referral_id}/decline", response_model=ReferralView)
    async def decline(referral_id: uuid.UUID, body: DeclineRequest) -> ReferralView:
        """The receiving service declines: the referral is re-routed and the clinical lead told."""
        return await _respond(referral_id, domain.Response.DECLINE, body.reason)

    @router.post("/referrals/{referral_id}/complete", response_model=ReferralView)
    async def complete(referral_id: uuid.UUID, body: ResponseRequest | None = None) -> ReferralView:
        """The receiving service has completed the episode of care it accepted."""
        return await _respond(referral_id, domain.Response.COMPLETE)

    @router.post("/referrals/{referral_id}/redirect", response_model=ReferralView, status_code=201)
    async def redirect(referral_id: uuid.UUID, body: RedirectRequest) -> ReferralView:
        """The practice's clinical lead sends an unplaced referral to another kind of service."""
        try:
            async with db.transaction() as session:
                rerouted = await redirect_unplaced(
                    session, ctx, referral_id, body.destination, clinician=body.clinician
                )
        except NotFound:
            raise _referral_not_found(referral_id) from None
        except domain.InvalidTransition as exc:
            raise _conflict(exc) from None
        return _referral_view(rerouted)

    @router.get("/follow-ups", response_model=list[FollowUpView])
    async def get_open_follow_ups(
        pcn: Annotated[PcnCode, Query(description="PCN code, e.g. U00123")],
        practice: Annotated[PracticeOds | None, Query(description="Practice ODS code")] = None,
    ) -> list[FollowUpView]:
        """Open DNA follow-ups in a PCN, soonest deadline first."""
        async with db.read() as session:
            rows = await open_follow_ups(session, pcn_code=pcn, practice_ods=practice)
        return [_follow_up_view(f) for f in rows]

    @router.post("/follow-ups/{follow_up_id}/outcome", response_model=FollowUpView)
    async def post_outcome(follow_up_id: uuid.UUID, body: FollowUpOutcomeRequest) -> FollowUpView:
        """Record the DNA follow-up's outcome (publishes dna.followed_up)."""
        try:
            async with db.transaction() as session:
                follow_up = await record_follow_up_outcome(
                    session,
                    ctx,
                    follow_up_id,
                    body.outcome,
                    clinician=body.clinician,
                    signposted_to=body.signposted_to,
                )
        except NotFound:
            raise HTTPException(
                404, detail=f"no DNA follow-up {follow_up_id}; list open ones with GET /follow-ups?pcn=..."
            ) from None
        except domain.InvalidOutcome as exc:
            raise HTTPException(
                422, detail=[{"loc": ["body", exc.field], "msg": exc.message, "type": "value_error"}]
            ) from None
        except domain.InvalidTransition as exc:
            raise _conflict(exc) from None
        return _follow_up_view(follow_up)

    return router
