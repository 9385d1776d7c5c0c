"""Who may do what to referrals and DNA follow-ups: the service's one access table (issue 11).

Scope is the routes' second question: an MHP acts within their PCN, a clinical lead within their own
practice; another organisation's referral or follow-up answers 404, as if it did not exist.
"""

from __future__ import annotations

from enum import StrEnum

from shared.identity import AccessPolicy, Role


class Action(StrEnum):
    LIST_REFERRALS = "list open referrals"
    READ_REFERRAL = "read a referral and its re-routing chain"
    RECORD_RESPONSE = "record a receiving service's answer to a referral"
    REDIRECT_REFERRAL = "redirect an unplaced referral"
    LIST_FOLLOW_UPS = "list open DNA follow-ups"
    RECORD_FOLLOW_UP_OUTCOME = "record a DNA follow-up's outcome"


# The clinicians of the pathway only: managers, the trust, IG and operators never see a referral (it names
# the patient's episode and destination), and practice staff and systems do not act on onward care here.
CLINICIANS = frozenset({Role.MHP, Role.CLINICAL_LEAD})

POLICY = AccessPolicy(
    {
        Action.LIST_REFERRALS: CLINICIANS,
        Action.READ_REFERRAL: CLINICIANS,
        Action.RECORD_RESPONSE: CLINICIANS,
        Action.REDIRECT_REFERRAL: CLINICIANS,
        Action.LIST_FOLLOW_UPS: CLINICIANS,
        Action.RECORD_FOLLOW_UP_OUTCOME: CLINICIANS,
    }
)
