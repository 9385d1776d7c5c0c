"""Referrals HTTP API for MHPs and receiving services: open referrals and follow-ups, responses, outcomes.

Routes translate a request into a command or query and the result into a view; rules live in the domain.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.referrals.adapters.unit_of_work import SqlReferralsUnitOfWork
from services.referrals.application import queries
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
from services.referrals.domain.follow_up import DnaFollowUp, FollowUpStatus, InvalidOutcome
from services.referrals.domain.lifecycle import DECLINE_REASON_MAX, InvalidTransition, ReferralStatus
from services.referrals.domain.referral import Referral
from shared.contracts.codes import AttendanceStatus, Destination, DnaFollowUpOutcome, ReferralDeclineReason
from shared.contracts.envelope import PcnCode, PracticeOds, StaffId
from shared.contracts.text import IdentifierFreeText
from shared.db import Database

DeclineText = Annotated[
    IdentifierFreeText, StringConstraints(strip_whitespace=True, min_length=1, max_length=DECLINE_REASON_MAX)
]


class ReferralView(BaseModel):
    referral_id: uuid.UUID
    correlation_id: uuid.UUID
    practice_ods: str
    destination: Destination
    destination_service: str | None = Field(description="The directory's service code; none when unplaced.")
    status: ReferralStatus = Field(
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
    decline_reason: str | None = Field(description="The decline's code, then any free text beside it.")
    decline_reason_code: ReferralDeclineReason | None
    chased_at: datetime | None = Field(description="When the unanswered referral was escalated.")
    needs_clinical_lead: bool

    @classmethod
    def of(cls, r: Referral) -> ReferralView:
        return cls(
            referral_id=r.referral_id,
            correlation_id=r.correlation_id,
            practice_ods=r.practice_ods,
            destination=r.destination,
            destination_service=r.service_code,
            status=r.status,
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
            decline_reason_code=r.decline_reason_code,
            chased_at=r.chased_at,
            needs_clinical_lead=r.needs_clinical_lead,
        )


class ReferralDetail(ReferralView):
    bounce_backs: int = Field(description="Declines in this referral's re-routing chain.")
    chain: list[ReferralView] = Field(description="Every referral of the re-routing chain, oldest first.")


class DeclineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason_code: ReferralDeclineReason = Field(description="Why the receiving service declines, as a code.")
    reason: DeclineText | None = Field(
        default=None,
        description="Free text beside the code, up to 200 characters; no patient identifiers (an NHS "
        "number or a date is refused), no control characters.",
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
    attendance: AttendanceStatus
    opened_at: datetime
    due_at: datetime = Field(description="Contact must be attempted by then, or it is escalated.")
    status: FollowUpStatus
    outcome: DnaFollowUpOutcome | None
    outcome_at: datetime | None
    signposted_to: Destination | None
    escalated_at: datetime | None

    @classmethod
    def of(cls, f: DnaFollowUp) -> FollowUpView:
        return cls(
            follow_up_id=f.follow_up_id,
            appointment_id=f.appointment_id,
            correlation_id=f.correlation_id,
            practice_ods=f.practice_ods,
            attendance=f.attendance,
            opened_at=f.opened_at,
            due_at=f.due_at,
            status=f.status,
            outcome=f.outcome,
            outcome_at=f.outcome_at,
            signposted_to=f.signposted_to,
            escalated_at=f.escalated_at,
        )


class FollowUpOutcomeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: DnaFollowUpOutcome
    clinician: StaffId = Field(description="The MHP recording the outcome.")
    signposted_to: Destination | None = Field(
        default=None, description="Required for contacted_and_signposted, refused otherwise."
    )


@asynccontextmanager
async def answering() -> AsyncIterator[None]:
    """Domain errors as HTTP answers: unknown ids 404, broken rules 409, a missing companion field 422."""
    try:
        yield
    except ReferralNotFound as exc:
        raise HTTPException(
            404, detail=f"no referral {exc.referral_id} was made by this service; check the id"
        ) from None
    except FollowUpNotFound as exc:
        raise HTTPException(
            404, detail=f"no DNA follow-up {exc.follow_up_id}; list open ones with GET /follow-ups?pcn=..."
        ) from None
    except InvalidOutcome as exc:
        raise HTTPException(
            422, detail=[{"loc": ["body", exc.field], "msg": exc.message, "type": "value_error"}]
        ) from None
    except InvalidTransition as exc:
        raise HTTPException(409, detail=exc.reason) from None


PcnQuery = Annotated[PcnCode, Query(description="PCN code, e.g. U00123")]
PracticeQuery = Annotated[PracticeOds | None, Query(description="Practice ODS code")]


def build_router(db: Database, ctx: ReferralsContext) -> APIRouter:
    router = APIRouter(tags=["referrals"])

    @router.get("/referrals", response_model=list[ReferralView])
    async def get_open_referrals(pcn: PcnQuery, practice: PracticeQuery = None) -> list[ReferralView]:
        """Open referrals in a PCN (made, accepted, or unplaced and waiting for the clinical lead)."""
        async with SqlReferralsUnitOfWork.reading(db) as uow:
            rows = await queries.open_referrals(uow, pcn_code=pcn, practice_ods=practice)
        return [ReferralView.of(r) for r in rows]

    @router.get("/referrals/{referral_id}", response_model=ReferralDetail)
    async def get_referral(referral_id: uuid.UUID) -> ReferralDetail:
        """A referral with its whole re-routing chain."""
        async with answering(), SqlReferralsUnitOfWork.reading(db) as uow:
            found = await queries.referral_chain(uow, referral_id)
        return ReferralDetail(
            **ReferralView.of(found.referral).model_dump(),
            bounce_backs=found.bounce_backs,
            chain=[ReferralView.of(r) for r in found.chain],
        )

    @router.post("/referrals/{referral_id}/accept", response_model=ReferralView)
    async def accept(referral_id: uuid.UUID, body: ResponseRequest | None = None) -> ReferralView:
        """The receiving service accepts the referral."""
        async with answering(), SqlReferralsUnitOfWork.begin(db) as uow:
            referral = await accept_referral(AcceptReferral(referral_id), uow, ctx)
        return ReferralView.of(referral)

    @router.post("/referrals/{referral_id}/decline", response_model=ReferralView)
    async def decline(referral_id: uuid.UUID, body: DeclineRequest) -> ReferralView:
        """The receiving service declines: the referral is re-routed and the clinical lead told."""
        async with answering(), SqlReferralsUnitOfWork.begin(db) as uow:
            command = DeclineReferral(referral_id, body.reason_code, body.reason)
            referral = await decline_referral(command, uow, ctx)
        return ReferralView.of(referral)

    @router.post("/referrals/{referral_id}/complete", response_model=ReferralView)
    async def complete(referral_id: uuid.UUID, body: ResponseRequest | None = None) -> ReferralView:
        """The receiving service has completed the episode of care it accepted."""
        async with answering(), SqlReferralsUnitOfWork.begin(db) as uow:
            referral = await complete_referral(CompleteReferral(referral_id), uow, ctx)
        return ReferralView.of(referral)

    @router.post("/referrals/{referral_id}/redirect", response_model=ReferralView, status_code=201)
    async def redirect(referral_id: uuid.UUID, body: RedirectRequest) -> ReferralView:
        """The practice's clinical lead sends an unplaced referral to another kind of service."""
        command = RedirectReferral(referral_id, body.destination, body.clinician)
        async with answering(), SqlReferralsUnitOfWork.begin(db) as uow:
            rerouted = await redirect_referral(command, uow, ctx)
        return ReferralView.of(rerouted)

    @router.get("/follow-ups", response_model=list[FollowUpView])
    async def get_open_follow_ups(pcn: PcnQuery, practice: PracticeQuery = None) -> list[FollowUpView]:
        """Open DNA follow-ups in a PCN, soonest deadline first."""
        async with SqlReferralsUnitOfWork.reading(db) as uow:
            rows = await queries.open_follow_ups(uow, pcn_code=pcn, practice_ods=practice)
        return [FollowUpView.of(f) for f in rows]

    @router.post("/follow-ups/{follow_up_id}/outcome", response_model=FollowUpView)
    async def post_outcome(follow_up_id: uuid.UUID, body: FollowUpOutcomeRequest) -> FollowUpView:
        """Record the DNA follow-up's outcome (publishes dna.followed_up)."""
        command = RecordFollowUpOutcome(follow_up_id, body.outcome, body.clinician, body.signposted_to)
        async with answering(), SqlReferralsUnitOfWork.begin(db) as uow:
            follow_up = await record_follow_up_outcome(command, uow, ctx)
        return FollowUpView.of(follow_up)

    return router
