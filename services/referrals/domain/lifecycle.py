"""A referral's lifecycle: its statuses, the responses of a receiving service, which may follow which."""

from __future__ import annotations

from enum import StrEnum

from shared.contracts.codes import ReferralDeclineReason
from shared.errors import RuleViolation


class ReferralStatus(StrEnum):
    MADE = "made"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    DECLINED = "declined"
    # No receiving service of the kind left to try: open until the practice's clinical lead acts.
    UNPLACED = "unplaced"
    # The clinical lead sent an unplaced referral elsewhere (see rerouted_to): closed.
    REDIRECTED = "redirected"
    # A re-triage replaced the decision that made it (referral.withdrawn told the service): closed.
    WITHDRAWN = "withdrawn"


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

DECLINE_REASON_MAX = 200


class InvalidTransition(RuleViolation):
    """A response or action that the referral's current state does not allow; the reason says what to do."""


def apply_response(current: ReferralStatus, response: Response) -> ReferralStatus | None:
    """The new status, or None when the response repeats what is already recorded (a no-op).

    Raises InvalidTransition when the response contradicts the referral's state.
    """
    target = RESPONSE_STATUS[response]
    if current is target or (current is ReferralStatus.UNPLACED and response is Response.DECLINE):
        return None
    if current in ALLOWED_FROM[response]:
        return target
    if current is ReferralStatus.WITHDRAWN:
        raise InvalidTransition(
            "the referral was withdrawn after the patient was re-triaged (see referral.withdrawn); "
            "close it, or contact the practice's clinical lead"
        )
    if current is ReferralStatus.MADE and response is Response.COMPLETE:
        raise InvalidTransition("the referral has not been accepted yet: accept it before completing it")
    if current in (ReferralStatus.DECLINED, ReferralStatus.UNPLACED, ReferralStatus.REDIRECTED):
        raise InvalidTransition(
            f"the referral is {current.value} and no longer with a receiving service; respond to the "
            "re-routed referral (see rerouted_to) or contact the practice's clinical lead"
        )
    raise InvalidTransition(f"the referral is already {current.value}; a {response.value} cannot follow it")


def decline_note(code: ReferralDeclineReason | None, text: str | None) -> str:
    """What a referral keeps of a decline (one column): the code, then any free text beside it.

    Declines from 1.0 producers may carry free text only.
    """
    if code is None:
        return (text or "not given")[:DECLINE_REASON_MAX]
    return (f"{code.value}: {text}" if text else code.value)[:DECLINE_REASON_MAX]


def is_open(status: ReferralStatus) -> bool:
    return status in (ReferralStatus.MADE, ReferralStatus.ACCEPTED, ReferralStatus.UNPLACED)


OPEN_STATUSES = frozenset(s for s in ReferralStatus if is_open(s))
