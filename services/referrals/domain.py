"""Referral rules, free of I/O: what triage and attendance outcomes lead to, lifecycle, re-routing."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from shared.contracts.codes import (
    Destination,
    Disposition,
    DnaFollowUpOutcome,
    NextStep,
    OutOfScopeReason,
    SignpostOutcome,
)

LONDON = ZoneInfo("Europe/London")


class ReferralStatus(StrEnum):
    MADE = "made"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    DECLINED = "declined"
    # No receiving service of the kind left to try: open until the practice's clinical lead acts.
    UNPLACED = "unplaced"
    # The clinical lead sent an unplaced referral elsewhere (see rerouted_to): closed.
    REDIRECTED = "redirected"


class Response(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    COMPLETE = "complete"


RESPONSE_STATUS = {
    Response.ACCEPT: ReferralStatus.ACCEPTED,
    Response.DECLINE: ReferralStatus.DECLINED,
    Response.COMPLETE: ReferralStatus.COMPLETED,
}

ALLOWED_FROM: dict[Response, frozenset[ReferralStatus]] = {
    Response.ACCEPT: frozenset({ReferralStatus.MADE}),
    # A service may decline after accepting (e.g. after its own assessment).
    Response.DECLINE: frozenset({ReferralStatus.MADE, ReferralStatus.ACCEPTED}),
    Response.COMPLETE: frozenset({ReferralStatus.ACCEPTED}),
}


class InvalidTransition(ValueError):
    """A response that the referral's current state does not allow; the message says what to do."""


def apply_response(current: ReferralStatus, response: Response) -> ReferralStatus | None:
    """The new status, or None when the response repeats what is already recorded (a no-op).

    Raises InvalidTransition when the response contradicts the referral's state.
    """
    target = RESPONSE_STATUS[response]
    if current is target or (current is ReferralStatus.UNPLACED and response is Response.DECLINE):
        return None
    if current in ALLOWED_FROM[response]:
        return target
    if current is ReferralStatus.MADE and response is Response.COMPLETE:
        raise InvalidTransition("the referral has not been accepted yet: accept it before completing it")
    if current in (ReferralStatus.DECLINED, ReferralStatus.UNPLACED, ReferralStatus.REDIRECTED):
        raise InvalidTransition(
            f"the referral is {current.value} and no longer with a receiving service; respond to the "
            "re-routed referral (see rerouted_to) or contact the practice's clinical lead"
        )
    raise InvalidTransition(f"the referral is already {current.value}; a {response.value} cannot follow it")


def is_open(status: ReferralStatus) -> bool:
    return status in (ReferralStatus.MADE, ReferralStatus.ACCEPTED, ReferralStatus.UNPLACED)


def next_service(ordered_codes: Sequence[str], tried: Collection[str]) -> str | None:
    """The first service in the directory's order for the kind that this chain has not tried yet."""
    return next((code for code in ordered_codes if code not in tried), None)


# --- what a triage or attendance outcome leads to ---------------------------------------------------


@dataclass(frozen=True)
class MakeReferral:
    destination: Destination


@dataclass(frozen=True)
class RecordSignpost:
    destination: Destination
    outcome: SignpostOutcome
    out_of_scope_reason: OutOfScopeReason | None = None


Action = MakeReferral | RecordSignpost


def triage_action(
    disposition: Disposition,
    destination: Destination | None,
    out_of_scope_reason: OutOfScopeReason | None,
    *,
    default_referral: Destination,
    advice_destination: Destination,
) -> Action | None:
    """What a call.triaged disposition asks of this service (None: appointments and escalation are not ours).

    Re-triage is not reconciled: a superseding decision is acted on as well, never undone.
    """
    if disposition is Disposition.REFER:
        return MakeReferral(destination or default_referral)
    if disposition is Disposition.SIGNPOST:
        target = destination or Destination.TALKING_THERAPIES
        outcome = (
            SignpostOutcome.SELF_REFERRAL_ADVISED
            if target is Destination.TALKING_THERAPIES
            else SignpostOutcome.INFORMATION_GIVEN
        )
        return RecordSignpost(target, outcome)
    if disposition is Disposition.ADVICE:
        return RecordSignpost(destination or advice_destination, SignpostOutcome.INFORMATION_GIVEN)
    if disposition is Disposition.OUT_OF_SCOPE:
        return RecordSignpost(
            destination or out_of_scope_destination(out_of_scope_reason),
            SignpostOutcome.REDIRECTED,
            out_of_scope_reason,
        )
    return None


def out_of_scope_destination(reason: OutOfScopeReason | None) -> Destination:
    return {
        OutOfScopeReason.UNDER_18: Destination.CHILDREN_AND_YOUNG_PEOPLE,
        OutOfScopeReason.OVER_65: Destination.OLDER_ADULTS,
        OutOfScopeReason.LOW_LEVEL_NEED: Destination.TALKING_THERAPIES,
        OutOfScopeReason.CRISIS: Destination.CRISIS_TEAM,
    }.get(reason or OutOfScopeReason.LOW_LEVEL_NEED, Destination.TALKING_THERAPIES)


def attendance_action(
    next_step: NextStep, destination: Destination | None, *, default_referral: Destination
) -> MakeReferral | None:
    if next_step is NextStep.REFERRAL:
        return MakeReferral(destination or default_referral)
    return None


# --- DNA follow-up --------------------------------------------------------------------------------


class FollowUpStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


REPEATED_DNA_THRESHOLD = 2


def notify_gp_of_repeated_dna(dna_count: int, already_notified: bool) -> bool:
    """Two DNAs in one episode tell the GP, once per episode."""
    return dna_count >= REPEATED_DNA_THRESHOLD and not already_notified


class InvalidOutcome(ValueError):
    """A follow-up outcome missing what it needs; `field` names the request field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def check_follow_up_outcome(outcome: DnaFollowUpOutcome, signposted_to: Destination | None) -> None:
    if outcome is DnaFollowUpOutcome.CONTACTED_AND_SIGNPOSTED and signposted_to is None:
        raise InvalidOutcome("signposted_to", "contacted_and_signposted needs the destination signposted to")
    if outcome is not DnaFollowUpOutcome.CONTACTED_AND_SIGNPOSTED and signposted_to is not None:
        raise InvalidOutcome(
            "signposted_to", f"only contacted_and_signposted takes a destination, not {outcome}"
        )


# --- working days ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkingDays:
    """Working weekdays (Monday = 0) and closed days (bank holidays) in the trust's time zone."""

    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    closed_days: frozenset[date] = frozenset()
    timezone: ZoneInfo = LONDON

    def __post_init__(self) -> None:
        if not self.weekdays:
            raise ValueError("at least one working weekday is needed")

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.closed_days

    def add(self, start: datetime, days: int) -> datetime:
        """`start` plus whole working days: the same local time on the `days`-th working day after it."""
        local = start.astimezone(self.timezone)
        day = local.date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return datetime.combine(day, local.time(), tzinfo=self.timezone).astimezone(start.tzinfo)


def overdue(due_at: datetime, now: datetime) -> bool:
    """Due up to and including its instant; only later is overdue."""
    return now > due_at
