"""Referrals' one subscription table: each `on_<event>` translates a consumed event into a command.

The spine opens the transaction and claims the inbox; each consumer runs its handler over that session.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.referrals.adapters.unit_of_work import SqlReferralsUnitOfWork
from services.referrals.application.commands import (
    AcceptReferral,
    ActOnAttendance,
    ActOnTriageDecision,
    Cause,
    CompleteReferral,
    DeclineReferral,
    OpenDnaFollowUp,
)
from services.referrals.application.context import ReferralsContext
from services.referrals.application.errors import ReferralNotFound
from services.referrals.application.handlers.follow_ups import open_dna_follow_up
from services.referrals.application.handlers.referrals import (
    accept_referral,
    act_on_attendance,
    act_on_triage_decision,
    complete_referral,
    decline_referral,
)
from services.referrals.domain.episode import Episode
from services.referrals.domain.lifecycle import InvalidTransition
from shared.contracts.envelope import Envelope
from shared.contracts.v1 import (
    AppointmentAttended,
    AppointmentDna,
    CallTriaged,
    ReferralAccepted,
    ReferralCompleted,
    ReferralDeclined,
)
from shared.messaging.consumer import PermanentFailure, Subscription


def cause_of(event: Envelope[Any]) -> Cause:
    return Cause(event.event_id, Episode(event.pcn_code, event.practice_ods, event.correlation_id))


def subscriptions(ctx: ReferralsContext) -> list[Subscription]:
    async def on_call_triaged(session: AsyncSession, event: CallTriaged) -> None:
        data = event.data
        command = ActOnTriageDecision(
            data.call_id, data.disposition, data.destination, data.out_of_scope_reason, cause_of(event)
        )
        await act_on_triage_decision(command, SqlReferralsUnitOfWork(session), ctx)

    async def on_appointment_attended(session: AsyncSession, event: AppointmentAttended) -> None:
        data = event.data
        command = ActOnAttendance(
            data.appointment_id, data.next_step, data.referral_destination, cause_of(event)
        )
        await act_on_attendance(command, SqlReferralsUnitOfWork(session), ctx)

    async def on_appointment_dna(session: AsyncSession, event: AppointmentDna) -> None:
        data = event.data
        command = OpenDnaFollowUp(data.appointment_id, data.attendance, event.occurred_at, cause_of(event))
        await open_dna_follow_up(command, SqlReferralsUnitOfWork(session), ctx)

    async def on_referral_response(
        session: AsyncSession, event: ReferralAccepted | ReferralDeclined | ReferralCompleted
    ) -> None:
        """referral.accepted / declined / completed from receiving services."""
        if event.producer == ctx.producer:
            return  # this service's own (an HTTP response): recorded when it was published
        uow, cause = SqlReferralsUnitOfWork(session), cause_of(event)
        try:
            if isinstance(event, ReferralAccepted):
                await accept_referral(AcceptReferral(event.data.referral_id, cause), uow, ctx)
            elif isinstance(event, ReferralCompleted):
                await complete_referral(CompleteReferral(event.data.referral_id, cause), uow, ctx)
            else:
                data = event.data
                command = DeclineReferral(data.referral_id, data.reason_code, data.reason, cause)
                await decline_referral(command, uow, ctx)
        except ReferralNotFound as exc:
            raise PermanentFailure(f"data.{exc.reason}") from None
        except InvalidTransition as exc:
            raise PermanentFailure(f"{event.event_type} cannot apply: {exc.reason}") from None

    return [
        Subscription("on_call_triaged", (CallTriaged,), on_call_triaged),
        Subscription("on_appointment_attended", (AppointmentAttended,), on_appointment_attended),
        Subscription("on_appointment_dna", (AppointmentDna,), on_appointment_dna),
        Subscription(
            "on_referral_response",
            (ReferralAccepted, ReferralDeclined, ReferralCompleted),
            on_referral_response,
        ),
    ]
