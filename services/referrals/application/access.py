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
    LIST_ESCALATIONS = "list the escalations in one's inbox"
    READ_ESCALATION = "read an escalation and its history"
    ACT_ON_ESCALATION = "acknowledge, resolve or hand over an escalation one owns"


# The clinicians of the pathway only: managers, the trust, IG and operators never see a referral (it names
# the patient's episode and destination), and practice staff and systems do not act on onward care here.
CLINICIANS = frozenset({Role.MHP, Role.CLINICAL_LEAD})
# Escalation owners: a practice's clinical lead or duty GP (a clinician at the practice), the trust's duty
# managers (the last rung of every ladder) and the platform operators. An escalation names the episode and
# its reason, never the patient; which escalations each may see is application/escalation_access.py's.
ESCALATION_OWNERS = frozenset({Role.CLINICAL_LEAD, Role.TRUST_MANAGER, Role.OPERATOR})

POLICY = AccessPolicy(
    {
        Action.LIST_REFERRALS: CLINICIANS,
        Action.READ_REFERRAL: CLINICIANS,
        Action.RECORD_RESPONSE: CLINICIANS,
        Action.REDIRECT_REFERRAL: CLINICIANS,
        Action.LIST_FOLLOW_UPS: CLINICIANS,
        Action.RECORD_FOLLOW_UP_OUTCOME: CLINICIANS,
        Action.LIST_ESCALATIONS: ESCALATION_OWNERS,
        Action.READ_ESCALATION: ESCALATION_OWNERS,
        Action.ACT_ON_ESCALATION: ESCALATION_OWNERS,
    }
)
