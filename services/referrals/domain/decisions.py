"""What a triage decision or an attended appointment asks of referrals: a referral, a signpost, or nothing."""

from __future__ import annotations

from dataclasses import dataclass

from shared.contracts.codes import Destination, Disposition, NextStep, OutOfScopeReason, SignpostOutcome


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
