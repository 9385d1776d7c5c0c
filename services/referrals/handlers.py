"""Referrals' use cases: make referrals and signposting records, handle responses, follow up DNAs, escalate.

Every state change stages its events in the same transaction (outbox); consumers are idempotent through
the shared inbox and, for re-sent events with new ids, through unique source ids on the rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.referrals import domain
from services.referrals.directory import Defaults, Directory
from services.referrals.models import DnaEpisode, DnaFollowUp, Referral, Signpost
from shared.contracts.codes import (
    Destination,
    DnaFollowUpOutcome,
    EscalationReason,
    EscalationTarget,
    SignpostOutcome,
)
from shared.contracts.envelope import Envelope
from shared.contracts.v1 import (
    AppointmentAttended,
    AppointmentDna,
    CallTriaged,
    CaseEscalated,
    CaseEscalatedData,
    DnaFollowedUp,
    DnaFollowedUpData,
    ReferralAccepted,
    ReferralAcceptedData,
    ReferralCompleted,
    ReferralCompletedData,
    ReferralDeclined,
    ReferralDeclinedData,
    ReferralMade,
    ReferralMadeData,
    SignpostRecorded,
    SignpostRecordedData,
)
from shared.db import Database, utcnow
from shared.logging import get_logger
from shared.messaging.consumer import Handler, PermanentFailure
from shared.messaging.outbox import add_event
from shared.watchdog import Watchdog

log = get_logger(__name__)

S = domain.ReferralStatus


class NotFound(LookupError):
    pass


@dataclass(frozen=True)
class ReferralsContext:
    producer: str  # `<organisation>/referrals`
    directory: Directory = field(default_factory=lambda: Directory(defaults=Defaults(), pcns={}))
    clock: Callable[[], datetime] = utcnow
    working_days: domain.WorkingDays = field(default_factory=domain.WorkingDays)
    chase_after_working_days: int = 5
    dna_follow_up_working_days: int = 2


@dataclass(frozen=True)
class Where:
    """The episode and organisation an event is about (taken from a row or a consumed event)."""

    pcn_code: str
    practice_ods: str
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None


def _where(row: Referral | DnaFollowUp, causation_id: uuid.UUID | None) -> Where:
    return Where(row.pcn_code, row.practice_ods, row.correlation_id, causation_id)


def _of(event: Envelope[Any]) -> Where:
    return Where(event.pcn_code, event.practice_ods, event.correlation_id, event.event_id)


def _stage(
    session: AsyncSession, ctx: ReferralsContext, cls: type[Any], data: Any, where: Where, now: datetime
) -> Any:
    event = cls.create(
        data,
        producer=ctx.producer,
        pcn_code=where.pcn_code,
        practice_ods=where.practice_ods,
        correlation_id=where.correlation_id,
        causation_id=where.causation_id,
        occurred_at=now,
    )
    add_event(session, event)
    return event


def _escalate(
    session: AsyncSession,
    ctx: ReferralsContext,
    where: Where,
    now: datetime,
    *,
    target: EscalationTarget,
    reason: EscalationReason,
    referral_id: uuid.UUID | None = None,
    appointment_id: uuid.UUID | None = None,
    due_at: datetime | None = None,
) -> CaseEscalated:
    lead = ctx.directory.clinical_lead(where.pcn_code, where.practice_ods)
    event: CaseEscalated = _stage(
        session,
        ctx,
        CaseEscalated,
        CaseEscalatedData(
            escalation_id=uuid.uuid4(),
            target=target,
            reason=reason,
            referral_id=referral_id,
            appointment_id=appointment_id,
            due_at=due_at,
            assigned_to=lead if target is EscalationTarget.PRACTICE_CLINICAL_LEAD else None,
        ),
        where,
        now,
    )
    return event


# --- making referrals and signposting records -----------------------------------------------------


async def _tried_services(session: AsyncSession, root_referral_id: uuid.UUID) -> set[str]:
    query = select(Referral.service_code).where(Referral.root_referral_id == root_referral_id)
    return {code for code in (await session.exec(query)).all() if code is not None}


async def make_referral(
    session: AsyncSession,
    ctx: ReferralsContext,
    *,
    where: Where,
    destination: Destination,
    source_event_id: uuid.UUID,
    now: datetime,
    call_id: uuid.UUID | None = None,
    appointment_id: uuid.UUID | None = None,
    previous: Referral | None = None,
) -> Referral:
    """Refer to the next untried service of the kind; with none left, keep it open for the clinical lead."""
    referral_id = uuid.uuid4()
    root = previous.root_referral_id if previous is not None else referral_id
    tried = await _tried_services(session, root) if previous is not None else set()
    codes = [s.code for s in ctx.directory.services(where.pcn_code, destination)]
    service_code = domain.next_service(codes, tried)
    referral = Referral(
        referral_id=referral_id,
        root_referral_id=root,
        previous_referral_id=previous.referral_id if previous is not None else None,
        correlation_id=where.correlation_id,
        pcn_code=where.pcn_code,
        practice_ods=where.practice_ods,
        call_id=call_id,
        appointment_id=appointment_id,
        destination=destination.value,
        service_code=service_code,
        status=S.MADE if service_code is not None else S.UNPLACED,
        source_event_id=source_event_id,
        made_at=now,
    )
    if service_code is not None:
        made: ReferralMade = _stage(
            session,
            ctx,
            ReferralMade,
            ReferralMadeData(
                referral_id=referral_id,
                destination=destination,
                call_id=call_id,
                appointment_id=appointment_id,
                previous_referral_id=referral.previous_referral_id,
                destination_service=service_code,
            ),
            where,
            now,
        )
        referral.made_event_id = made.event_id
        referral.response_due_at = ctx.working_days.add(now, ctx.chase_after_working_days)
    else:
        # Nowhere (left) to send it: never dropped; the practice's clinical lead must place it.
        _escalate(
            session,
            ctx,
            where,
            now,
            target=EscalationTarget.PRACTICE_CLINICAL_LEAD,
            reason=EscalationReason.BOUNCED_REFERRAL,
            referral_id=referral_id,
        )
    session.add(referral)
    log.info("referral_made", destination=destination.value, placed=service_code is not None)
    return referral


async def record_signpost(
    session: AsyncSession,
    ctx: ReferralsContext,
    *,
    where: Where,
    action: domain.RecordSignpost,
    source_event_id: uuid.UUID,
    now: datetime,
    call_id: uuid.UUID | None = None,
    appointment_id: uuid.UUID | None = None,
) -> Signpost:
    event: SignpostRecorded = _stage(
        session,
        ctx,
        SignpostRecorded,
        SignpostRecordedData(
            signpost_id=uuid.uuid4(),
            destination=action.destination,
            outcome=action.outcome,
            call_id=call_id,
            out_of_scope_reason=action.out_of_scope_reason,
        ),
        where,
        now,
    )
    row = Signpost(
        signpost_id=event.data.signpost_id,
        source_event_id=source_event_id,
        correlation_id=where.correlation_id,
        pcn_code=where.pcn_code,
        practice_ods=where.practice_ods,
        call_id=call_id,
        appointment_id=appointment_id,
        destination=action.destination.value,
        outcome=action.outcome.value,
        out_of_scope_reason=action.out_of_scope_reason.value if action.out_of_scope_reason else None,
        recorded_at=now,
        event_id=event.event_id,
    )
    session.add(row)
    return row


async def _already_acted_on_call(session: AsyncSession, call_id: uuid.UUID, action: domain.Action) -> bool:
    """The same call re-sent under a new event id must not refer or signpost the patient twice."""
    if isinstance(action, domain.MakeReferral):
        query: Any = select(Referral.referral_id).where(
            (col(Referral.call_id) == call_id)
            & (Referral.destination == action.destination.value)
            & col(Referral.previous_referral_id).is_(None)
        )
    else:
        query = select(Signpost.signpost_id).where(
            (Signpost.call_id == call_id)
            & (Signpost.destination == action.destination.value)
            & (Signpost.outcome == action.outcome.value)
        )
    return (await session.exec(query)).first() is not None


def call_triaged_handler(ctx: ReferralsContext) -> Handler:
    async def handle(session: AsyncSession, event: CallTriaged) -> None:
        data = event.data
        defaults = ctx.directory.defaults
        action = domain.triage_action(
            data.disposition,
            data.destination,
            data.out_of_scope_reason,
            default_referral=defaults.referral,
            advice_destination=defaults.advice,
        )
        if action is None or await _already_acted_on_call(session, data.call_id, action):
            return
        now = ctx.clock()
        if isinstance(action, domain.MakeReferral):
            await make_referral(
                session,
                ctx,
                where=_of(event),
                destination=action.destination,
                source_event_id=event.event_id,
                now=now,
                call_id=data.call_id,
            )
        else:
            await record_signpost(
                session,
                ctx,
                where=_of(event),
                action=action,
                source_event_id=event.event_id,
                now=now,
                call_id=data.call_id,
            )

    return handle


def appointment_attended_handler(ctx: ReferralsContext) -> Handler:
    async def handle(session: AsyncSession, event: AppointmentAttended) -> None:
        data = event.data
        action = domain.attendance_action(
            data.next_step, data.referral_destination, default_referral=ctx.directory.defaults.referral
        )
        if action is None:
            return
        existing = select(Referral.referral_id).where(
            (col(Referral.appointment_id) == data.appointment_id)
            & col(Referral.previous_referral_id).is_(None)
        )
        if (await session.exec(existing)).first() is not None:
            return  # the attendance re-sent under a new event id
        await make_referral(
            session,
            ctx,
            where=_of(event),
            destination=action.destination,
            source_event_id=event.event_id,
            now=ctx.clock(),
            appointment_id=data.appointment_id,
        )

    return handle


# --- responses from receiving services ----------------------------------------------------------


async def respond(
    session: AsyncSession,
    ctx: ReferralsContext,
    referral_id: uuid.UUID,
    response: domain.Response,
    *,
    reason: str | None = None,
    event: Envelope[Any] | None = None,
) -> Referral:
    """Apply a receiving service's response; from HTTP (`event` None) this service publishes it.

    Raises NotFound, or domain.InvalidTransition before anything is written. A repeated response
    from an event is a no-op; from HTTP it is an InvalidTransition (the caller sees what is recorded).
    """
    referral = await session.get(Referral, referral_id)
    if referral is None:
        raise NotFound(str(referral_id))
    current = S(referral.status)
    new = domain.apply_response(current, response)
    if new is None:
        if event is not None:
            return referral
        raise domain.InvalidTransition(f"the referral is already {current.value}; nothing to change")
    now = ctx.clock()
    if event is None:
        where = _where(referral, referral.made_event_id)
        if response is domain.Response.ACCEPT:
            event = _stage(
                session, ctx, ReferralAccepted, ReferralAcceptedData(referral_id=referral_id), where, now
            )
        elif response is domain.Response.COMPLETE:
            event = _stage(
                session, ctx, ReferralCompleted, ReferralCompletedData(referral_id=referral_id), where, now
            )
        else:
            event = _stage(
                session,
                ctx,
                ReferralDeclined,
                ReferralDeclinedData(referral_id=referral_id, reason=reason or "not given"),
                where,
                now,
            )
    assert event is not None
    referral.status = new.value
    if response is domain.Response.ACCEPT:
        referral.accepted_at = now
    elif response is domain.Response.COMPLETE:
        referral.completed_at = now
    else:
        await _bounce(session, ctx, referral, reason=reason, cause=event, now=now)
    session.add(referral)
    return referral


async def _bounce(
    session: AsyncSession,
    ctx: ReferralsContext,
    referral: Referral,
    *,
    reason: str | None,
    cause: Envelope[Any],
    now: datetime,
) -> None:
    """A decline is never the end: re-route to the next service of the kind and tell the clinical lead."""
    referral.declined_at = now
    referral.decline_reason = (reason or "not given")[:200]
    where = Where(referral.pcn_code, referral.practice_ods, referral.correlation_id, cause.event_id)
    destination = Destination(referral.destination)
    tried = await _tried_services(session, referral.root_referral_id)
    codes = [s.code for s in ctx.directory.services(referral.pcn_code, destination)]
    if domain.next_service(codes, tried) is None:
        # Nowhere left to send it: the declined referral stays visibly open for the clinical lead.
        referral.status = S.UNPLACED.value
        log.warning("referral_declined_no_destination_left", destination=referral.destination)
    else:
        rerouted = await make_referral(
            session,
            ctx,
            where=where,
            destination=destination,
            source_event_id=cause.event_id,
            now=now,
            call_id=referral.call_id,
            appointment_id=referral.appointment_id,
            previous=referral,
        )
        referral.rerouted_to = rerouted.referral_id
        log.info("referral_rerouted", destination=referral.destination)
    escalated = _escalate(
        session,
        ctx,
        where,
        now,
        target=EscalationTarget.PRACTICE_CLINICAL_LEAD,
        reason=EscalationReason.BOUNCED_REFERRAL,
        referral_id=referral.referral_id,
    )
    referral.bounce_escalation_event_id = escalated.event_id


async def redirect_unplaced(
    session: AsyncSession,
    ctx: ReferralsContext,
    referral_id: uuid.UUID,
    destination: Destination,
    *,
    clinician: str,
) -> Referral:
    """The clinical lead sends an unplaced referral to another kind of service; returns the new referral.

    Raises NotFound, or domain.InvalidTransition (not unplaced, or no untried service of that kind).
    """
    referral = await session.get(Referral, referral_id)
    if referral is None:
        raise NotFound(str(referral_id))
    if referral.status != S.UNPLACED.value:
        raise domain.InvalidTransition(
            f"the referral is {referral.status}; only an unplaced referral is redirected by the clinical lead"
        )
    tried = await _tried_services(session, referral.root_referral_id)
    codes = [s.code for s in ctx.directory.services(referral.pcn_code, destination)]
    if domain.next_service(codes, tried) is None:
        raise domain.InvalidTransition(
            f"the directory has no {destination.value} service left to try for PCN {referral.pcn_code}; "
            "choose another destination or update the directory"
        )
    rerouted = await make_referral(
        session,
        ctx,
        where=_where(referral, referral.made_event_id),
        destination=destination,
        source_event_id=uuid.uuid4(),  # no event caused it: a person did, through the API
        now=ctx.clock(),
        call_id=referral.call_id,
        appointment_id=referral.appointment_id,
        previous=referral,
    )
    referral.status = S.REDIRECTED.value
    referral.rerouted_to = rerouted.referral_id
    referral.redirected_by = clinician
    session.add(referral)
    return rerouted


RESPONSE_OF: dict[type[Envelope[Any]], domain.Response] = {
    ReferralAccepted: domain.Response.ACCEPT,
    ReferralDeclined: domain.Response.DECLINE,
    ReferralCompleted: domain.Response.COMPLETE,
}


def referral_response_handler(ctx: ReferralsContext) -> Handler:
    """referral.accepted / declined / completed from receiving services (this service's own are skipped)."""

    async def handle(
        session: AsyncSession, event: ReferralAccepted | ReferralDeclined | ReferralCompleted
    ) -> None:
        if event.producer == ctx.producer:
            return  # recorded when this service published it (an HTTP response)
        reason = event.data.reason if isinstance(event, ReferralDeclined) else None
        try:
            await respond(
                session, ctx, event.data.referral_id, RESPONSE_OF[type(event)], reason=reason, event=event
            )
        except NotFound:
            raise PermanentFailure(
                "data.referral_id: no referral with this id was made by this service"
            ) from None
        except domain.InvalidTransition as exc:
            raise PermanentFailure(f"{event.event_type} cannot apply: {exc}") from None

    return handle


# --- DNA follow-up --------------------------------------------------------------------------------


def appointment_dna_handler(ctx: ReferralsContext) -> Handler:
    async def handle(session: AsyncSession, event: AppointmentDna) -> None:
        await open_follow_up(session, ctx, event)

    return handle


async def open_follow_up(
    session: AsyncSession, ctx: ReferralsContext, event: AppointmentDna
) -> DnaFollowUp | None:
    """Open a follow-up with its contact deadline; a second DNA in the episode tells the GP (once)."""
    existing = (
        await session.exec(select(DnaFollowUp).where(DnaFollowUp.appointment_id == event.data.appointment_id))
    ).first()
    if existing is not None:
        return None  # the same missed appointment re-sent under a new event id
    now = ctx.clock()
    follow_up = DnaFollowUp(
        follow_up_id=uuid.uuid4(),
        appointment_id=event.data.appointment_id,
        dna_event_id=event.event_id,
        correlation_id=event.correlation_id,
        pcn_code=event.pcn_code,
        practice_ods=event.practice_ods,
        attendance=event.data.attendance.value,
        opened_at=event.occurred_at,
        due_at=ctx.working_days.add(event.occurred_at, ctx.dna_follow_up_working_days),
    )
    session.add(follow_up)
    episode = await session.get(DnaEpisode, event.correlation_id)
    if episode is None:
        episode = DnaEpisode(correlation_id=event.correlation_id)
    episode.dna_count += 1
    if domain.notify_gp_of_repeated_dna(episode.dna_count, episode.gp_notified_at is not None):
        notice = _escalate(
            session,
            ctx,
            _of(event),
            now,
            target=EscalationTarget.GP,
            reason=EscalationReason.REPEATED_DNA,
            appointment_id=event.data.appointment_id,
        )
        episode.gp_notified_at = now
        episode.gp_notice_event_id = notice.event_id
        log.warning("repeated_dna_gp_notified")
    session.add(episode)
    return follow_up


async def record_follow_up_outcome(
    session: AsyncSession,
    ctx: ReferralsContext,
    follow_up_id: uuid.UUID,
    outcome: DnaFollowUpOutcome,
    *,
    clinician: str,
    signposted_to: Destination | None = None,
) -> DnaFollowUp:
    """Record what the DNA follow-up achieved; raises NotFound, InvalidOutcome or InvalidTransition."""
    follow_up = await session.get(DnaFollowUp, follow_up_id)
    if follow_up is None:
        raise NotFound(str(follow_up_id))
    if follow_up.status != domain.FollowUpStatus.OPEN:
        raise domain.InvalidTransition(
            f"this follow-up was already recorded as {follow_up.outcome}; a new DNA opens a new follow-up"
        )
    domain.check_follow_up_outcome(outcome, signposted_to)
    now = ctx.clock()
    where = _where(follow_up, follow_up.dna_event_id)
    done: DnaFollowedUp = _stage(
        session,
        ctx,
        DnaFollowedUp,
        DnaFollowedUpData(appointment_id=follow_up.appointment_id, outcome=outcome),
        where,
        now,
    )
    if outcome is DnaFollowUpOutcome.CONTACTED_AND_SIGNPOSTED:
        assert signposted_to is not None
        await record_signpost(
            session,
            ctx,
            where=where,
            action=domain.RecordSignpost(signposted_to, SignpostOutcome.INFORMATION_GIVEN),
            source_event_id=done.event_id,
            now=now,
            appointment_id=follow_up.appointment_id,
        )
    elif outcome is DnaFollowUpOutcome.SAFEGUARDING_ESCALATION:
        _escalate(
            session,
            ctx,
            where,
            now,
            target=EscalationTarget.PRACTICE_CLINICAL_LEAD,
            reason=EscalationReason.SAFEGUARDING,
            appointment_id=follow_up.appointment_id,
        )
    follow_up.status = domain.FollowUpStatus.DONE.value
    follow_up.outcome = outcome.value
    follow_up.outcome_at = now
    follow_up.recorded_by = clinician
    follow_up.signposted_to = signposted_to.value if signposted_to else None
    follow_up.outcome_event_id = done.event_id
    session.add(follow_up)
    return follow_up


# --- reading --------------------------------------------------------------------------------------


OPEN_REFERRAL_STATUSES = [s.value for s in S if domain.is_open(s)]


async def open_referrals(
    session: AsyncSession, *, pcn_code: str, practice_ods: str | None = None
) -> list[Referral]:
    query = select(Referral).where(
        (col(Referral.pcn_code) == pcn_code) & col(Referral.status).in_(OPEN_REFERRAL_STATUSES)
    )
    if practice_ods:
        query = query.where(Referral.practice_ods == practice_ods)
    return list((await session.exec(query.order_by(col(Referral.made_at)))).all())


async def referral_chain(session: AsyncSession, referral_id: uuid.UUID) -> tuple[Referral, list[Referral]]:
    """A referral and every referral of its re-routing chain, oldest first."""
    referral = await session.get(Referral, referral_id)
    if referral is None:
        raise NotFound(str(referral_id))
    query = (
        select(Referral)
        .where(Referral.root_referral_id == referral.root_referral_id)
        .order_by(col(Referral.made_at), col(Referral.declined_at))
    )
    return referral, list((await session.exec(query)).all())


async def open_follow_ups(
    session: AsyncSession, *, pcn_code: str, practice_ods: str | None = None
) -> list[DnaFollowUp]:
    query = select(DnaFollowUp).where(
        (DnaFollowUp.pcn_code == pcn_code) & (DnaFollowUp.status == domain.FollowUpStatus.OPEN.value)
    )
    if practice_ods:
        query = query.where(DnaFollowUp.practice_ods == practice_ods)
    return list((await session.exec(query.order_by(col(DnaFollowUp.due_at)))).all())


# --- watchdog -------------------------------------------------------------------------------------


async def chase_unanswered_referrals(
    session: AsyncSession, ctx: ReferralsContext, *, limit: int = 100
) -> int:
    """Escalate, once each, referrals with no response by their due date (reason referral_unanswered)."""
    now = ctx.clock()
    due = (
        select(Referral)
        .where(
            (col(Referral.status) == S.MADE.value)
            & col(Referral.chased_at).is_(None)
            & (col(Referral.response_due_at) < now)
        )
        .order_by(col(Referral.response_due_at))
        .limit(limit)
    )
    fired = 0
    for referral in (await session.exec(due)).all():
        assert referral.response_due_at is not None
        # Conditional update in the outbox's transaction: a restart or second instance never fires twice.
        result = await session.exec(
            update(Referral)
            .where(
                (col(Referral.referral_id) == referral.referral_id)
                & col(Referral.chased_at).is_(None)
                & (col(Referral.status) == S.MADE.value)
            )
            .values(chased_at=now)
        )
        if result.rowcount != 1:
            continue
        event = _escalate(
            session,
            ctx,
            _where(referral, referral.made_event_id),
            now,
            target=EscalationTarget.PRACTICE_CLINICAL_LEAD,
            reason=EscalationReason.REFERRAL_UNANSWERED,
            referral_id=referral.referral_id,
            due_at=referral.response_due_at,
        )
        await session.exec(
            update(Referral)
            .where(col(Referral.referral_id) == referral.referral_id)
            .values(chase_event_id=event.event_id)
        )
        fired += 1
    if fired:
        log.warning("referrals_chased", referrals=fired)
    return fired


async def escalate_overdue_follow_ups(
    session: AsyncSession, ctx: ReferralsContext, *, limit: int = 100
) -> int:
    """Escalate, once each, DNA follow-ups with no outcome by their deadline (reason follow_up_overdue)."""
    now = ctx.clock()
    due = (
        select(DnaFollowUp)
        .where(
            (col(DnaFollowUp.status) == domain.FollowUpStatus.OPEN.value)
            & col(DnaFollowUp.escalated_at).is_(None)
            & (col(DnaFollowUp.due_at) < now)
        )
        .order_by(col(DnaFollowUp.due_at))
        .limit(limit)
    )
    fired = 0
    for follow_up in (await session.exec(due)).all():
        result = await session.exec(
            update(DnaFollowUp)
            .where(
                (col(DnaFollowUp.follow_up_id) == follow_up.follow_up_id)
                & col(DnaFollowUp.escalated_at).is_(None)
                & (col(DnaFollowUp.status) == domain.FollowUpStatus.OPEN.value)
            )
            .values(escalated_at=now)
        )
        if result.rowcount != 1:
            continue
        event = _escalate(
            session,
            ctx,
            _where(follow_up, follow_up.dna_event_id),
            now,
            target=EscalationTarget.PRACTICE_CLINICAL_LEAD,
            reason=EscalationReason.FOLLOW_UP_OVERDUE,
            appointment_id=follow_up.appointment_id,
            due_at=follow_up.due_at,
        )
        await session.exec(
            update(DnaFollowUp)
            .where(col(DnaFollowUp.follow_up_id) == follow_up.follow_up_id)
            .values(escalation_event_id=event.event_id)
        )
        fired += 1
    if fired:
        log.warning("dna_follow_ups_overdue_escalated", follow_ups=fired)
    return fired


def referrals_watchdog(db: Database, ctx: ReferralsContext, *, interval: float) -> Watchdog:
    """Chases unanswered referrals and escalates overdue DNA follow-ups, once each."""

    async def chase(session: AsyncSession, limit: int) -> int:
        return await chase_unanswered_referrals(session, ctx, limit=limit)

    async def follow_ups(session: AsyncSession, limit: int) -> int:
        return await escalate_overdue_follow_ups(session, ctx, limit=limit)

    return Watchdog(db, [chase, follow_ups], interval=interval)
