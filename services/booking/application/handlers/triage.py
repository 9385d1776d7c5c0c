"""A triage decision books the case by its deadline; a newer re-triage replaces what the earlier one booked.

Decisions are applied in their order, not their arrival: one older than the decision applied for the call
(domain/decisions.py) is recorded as ignored and changes nothing.
"""

from __future__ import annotations

from services.booking.application.commands import BookFromTriage
from services.booking.application.context import BookingContext
from services.booking.application.handlers.allocation import book_or_waitlist, offer_to_waitlist, release
from services.booking.application.unit_of_work import BookingUnitOfWork
from services.booking.domain.appointment import Appointment, BookingRequest
from services.booking.domain.decisions import IgnoredDecision, TriageDecision
from services.booking.domain.urgency import urgency_of_triage
from services.booking.domain.waitlist import WaitlistEntry
from shared.contracts.codes import CancelledBy
from shared.contracts.decision_order import Ordering, order_against
from shared.errors import RuleViolation
from shared.logging import get_logger

log = get_logger(__name__)


async def book_from_triage(
    cmd: BookFromTriage, uow: BookingUnitOfWork, ctx: BookingContext
) -> Appointment | WaitlistEntry | None:
    """Book, waitlist, or (for a disposition without an appointment, e.g. escalate for A/B) only cancel
    what an earlier decision booked. None when nothing is booked."""
    decision = TriageDecision.of(
        event_id=cmd.cause.event_id,
        call_id=cmd.call_id,
        decision_sequence=cmd.decision_sequence,
        supersedes=cmd.supersedes,
        decided_at=cmd.cause.occurred_at,
        triage_code=cmd.triage_code,
    )
    applied = await uow.decisions.applied_for(cmd.call_id)
    ordering = order_against(decision, applied)
    if applied is not None and ordering is not Ordering.NEWER:
        await uow.decisions.record_ignored(IgnoredDecision(decision, ordering, applied, ctx.clock()))
        # The sequences only: nothing here identifies the patient.
        log.info(
            "triage_decision_ignored",
            ordering=ordering.value,
            decision_sequence=decision.sequence,
            applied_sequence=applied.sequence,
        )
        return None
    live = await uow.appointments.live_initial_for_call(cmd.call_id)
    waiting = await uow.waitlist.waiting_for_call(cmd.call_id)
    if applied is None and cmd.supersedes is None and (live is not None or waiting is not None):
        return None  # booked before decisions were recorded (an older release): the first decision re-sent
    await uow.decisions.apply(decision, replacing=applied, at=ctx.clock())
    if live is not None:
        await release(uow, live, live.cancel(CancelledBy.PROVIDER), announce=True, cause=cmd.cause)
    if waiting is not None:
        waiting.withdraw()
        await uow.waitlist.save(waiting)
    outcome = None
    if cmd.needs_appointment:
        # The contract guarantees both for an appointment disposition; refuse (not assert: -O drops it).
        if cmd.respond_by is None or cmd.minutes is None:
            raise RuleViolation("an appointment disposition needs respond_by and appointment_minutes")
        request = BookingRequest(
            call_id=cmd.call_id,
            correlation_id=cmd.correlation_id,
            pcn_code=cmd.pcn_code,
            home_practice_ods=cmd.practice_ods,
            respond_by=cmd.respond_by,
            modality=cmd.modality,
            minutes=cmd.minutes,
            urgency=urgency_of_triage(cmd.triage_code, cmd.respond_by, ctx.clock()),
        )
        outcome = await book_or_waitlist(uow, ctx, request, cause=cmd.cause)
    if live is not None:
        await offer_to_waitlist(uow, ctx, cmd.pcn_code, cause=cmd.cause)
    return outcome
