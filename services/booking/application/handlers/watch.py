"""Watchdog handlers: waiting cases re-escalated until booked; appointments lacking an outcome escalated.

Each claim is a compare-and-set in the same unit of work as its escalation: a claim lost to a second
replica (or already made before a restart) sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.booking.application.commands import EscalateMissingOutcomes, WatchWaitingCases
from services.booking.application.context import BookingContext
from services.booking.application.publishing import publish
from services.booking.application.unit_of_work import BookingUnitOfWork
from services.booking.domain.case_watch import next_watch_step, outcome_missing, outcome_review_due
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class WatchPass:
    looked_at: int
    """Cases the pass handled (at most the command's limit: a full batch means more may be due)."""
    escalated: int


async def watch_waiting_cases(
    cmd: WatchWaitingCases, uow: BookingUnitOfWork, ctx: BookingContext
) -> WatchPass:
    now = ctx.clock()
    cases = await uow.watch.waiting_due(now, cmd.limit)
    escalated = 0
    for case in cases:
        step = next_watch_step(
            case.entry,
            case.watch,
            code=case.triage_code,
            policy=ctx.case_watch,
            now=now,
            call_known=case.triage_code is not None,
        )
        if step is None or not await uow.watch.claim(case.watch, step.watch):
            continue  # not due after all, or another replica took it first
        if step.escalation is not None:
            publish(uow, [step.escalation], None)
            escalated += 1
            log.warning("waiting_case_re_escalated", reason=step.escalation.reason.value)
    return WatchPass(looked_at=len(cases), escalated=escalated)


async def escalate_missing_outcomes(
    cmd: EscalateMissingOutcomes, uow: BookingUnitOfWork, ctx: BookingContext
) -> int:
    """How many appointments it escalated (each once, ever)."""
    now = ctx.clock()
    review_after = ctx.attendance_review_after
    escalated = 0
    for appointment in await uow.watch.outcomes_missing(now - review_after, cmd.limit):
        if not outcome_review_due(appointment, review_after, now):
            continue
        if not await uow.watch.claim_outcome_escalation(appointment.appointment_id, now):
            continue
        publish(uow, [outcome_missing(appointment, review_after)], None)
        escalated += 1
    if escalated:
        log.warning("attendance_outcome_missing_escalated", appointments=escalated)
    return escalated
