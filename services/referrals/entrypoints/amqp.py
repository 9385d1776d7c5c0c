"""Referrals' one subscription table: each `on_<event>` translates a consumed event into a command.

The spine opens the transaction and claims the inbox; `in_unit_of_work` hands each consumer that
transaction as a unit of work, so consumers have the command handlers' shape: (event, uow, ctx).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from services.referrals.adapters.unit_of_work import SqlReferralsUnitOfWork
from services.referrals.application.commands import (
    AcceptReferral,
    ActOnAttendance,
    ActOnTriageDecision,
    Cause,
    CompleteReferral,
    DeclineReferral,
    OpenDnaFollowUp,
    RecordEscalation,
)
from services.referrals.application.context import ReferralsContext
from services.referrals.application.errors import ReferralNotFound
from services.referrals.application.handlers.escalations import record_escalation
from services.referrals.application.handlers.follow_ups import open_dna_follow_up
from services.referrals.application.handlers.referrals import (
    accept_referral,
    act_on_attendance,
    act_on_triage_decision,
    complete_referral,
    decline_referral,
)
from services.referrals.domain.episode import Episode
from services.referrals.domain.escalation import Raised
from services.referrals.domain.lifecycle import InvalidTransition
from shared.contracts.codes import AttendanceStatus, CancelledBy
from shared.contracts.envelope import Envelope
from shared.contracts.v1 import (
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentDna,
    CallTriaged,
    CaseEscalated,
    ReferralAccepted,
    ReferralCompleted,
    ReferralDeclined,
)
from shared.messaging.consumer import Handler, PermanentFailure, Subscription, in_unit_of_work


def cause_of(event: Envelope[Any]) -> Cause:
    return Cause(event.event_id, Episode(event.pcn_code, event.practice_ods, event.correlation_id))


async def on_call_triaged(event: CallTriaged, uow: SqlReferralsUnitOfWork, ctx: ReferralsContext) -> None:
    data = event.data
    command = ActOnTriageDecision(
        data.call_id,
        data.disposition,
        data.destination,
        data.out_of_scope_reason,
        cause_of(event),
        triage_code=data.triage_code,
        decision_sequence=data.decision_sequence,
        supersedes=data.supersedes,
        decided_at=event.occurred_at,
    )
    await act_on_triage_decision(command, uow, ctx)


async def on_appointment_attended(
    event: AppointmentAttended, uow: SqlReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    data = event.data
    command = ActOnAttendance(data.appointment_id, data.next_step, data.referral_destination, cause_of(event))
    await act_on_attendance(command, uow, ctx)


async def on_appointment_dna(
    event: AppointmentDna, uow: SqlReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    data = event.data
    command = OpenDnaFollowUp(data.appointment_id, data.attendance, event.occurred_at, cause_of(event))
    await open_dna_follow_up(command, uow, ctx)


async def on_appointment_cancelled(
    event: AppointmentCancelled, uow: SqlReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    """Cancelled by the patient: followed up like a DNA, so someone contacts them. A provider's
    cancellation is booking's to rebook or waitlist, not ours."""
    data = event.data
    if data.cancelled_by is not CancelledBy.PATIENT:
        return
    command = OpenDnaFollowUp(
        data.appointment_id, AttendanceStatus.CANCELLED_BY_PATIENT, event.occurred_at, cause_of(event)
    )
    await open_dna_follow_up(command, uow, ctx)


async def on_referral_response(
    event: ReferralAccepted | ReferralDeclined | ReferralCompleted,
    uow: SqlReferralsUnitOfWork,
    ctx: ReferralsContext,
) -> None:
    """referral.accepted / declined / completed from receiving services."""
    if event.producer == ctx.producer:
        return  # this service's own (an HTTP response): recorded when it was published
    cause = replace(cause_of(event), answered_by=event.producer.partition("/")[0])
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


async def on_case_escalated(event: CaseEscalated, uow: SqlReferralsUnitOfWork, ctx: ReferralsContext) -> None:
    """Every escalation, from triage, booking and this service itself, becomes owned work here."""
    data = event.data
    raised = Raised(
        escalation_id=data.escalation_id,
        episode=cause_of(event).episode,
        target=data.target,
        reason=data.reason,
        rung=data.rung,
        assigned_to=data.assigned_to,
        acknowledge_by=data.acknowledge_by,
        occurred_at=event.occurred_at,
        event_id=event.event_id,
        raised_by=event.producer,
        call_id=data.call_id,
        appointment_id=data.appointment_id,
        referral_id=data.referral_id,
        due_at=data.due_at,
    )
    await record_escalation(RecordEscalation(raised), uow, ctx)


def subscriptions(ctx: ReferralsContext) -> list[Subscription]:
    def handler(consumer: Any) -> Handler:
        return in_unit_of_work(SqlReferralsUnitOfWork, ctx, consumer)

    return [
        Subscription("on_call_triaged", (CallTriaged,), handler(on_call_triaged)),
        Subscription("on_appointment_attended", (AppointmentAttended,), handler(on_appointment_attended)),
        Subscription("on_appointment_dna", (AppointmentDna,), handler(on_appointment_dna)),
        Subscription("on_appointment_cancelled", (AppointmentCancelled,), handler(on_appointment_cancelled)),
        Subscription("on_case_escalated", (CaseEscalated,), handler(on_case_escalated)),
        Subscription(
            "on_referral_response",
            (ReferralAccepted, ReferralDeclined, ReferralCompleted),
            handler(on_referral_response),
        ),
    ]
