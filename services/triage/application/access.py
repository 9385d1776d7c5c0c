"""Who may do what in triage: the service's one access table (issue 11).

Scope is the routes' second question: an MHP acts within their PCN, a clinical lead reads only their own
practice's calls; another organisation's call, PCN or practice answers 404, as if it did not exist.
"""

from __future__ import annotations

from enum import StrEnum

from shared.identity import AccessPolicy, Role


class Action(StrEnum):
    READ_WORKLIST = "read the triage worklist"
    RECORD_DECISION = "record a triage decision"
    READ_CALL = "read a call and its decisions"


# A call carries the patient's NHS number, date of birth, reason for calling and the MHP's risk
# formulation: only the pathway's clinicians see one. Triage is the MHP's work; a practice's clinical
# lead may read their own practice's calls (escalations land with them) but not decide or work the list.
POLICY = AccessPolicy(
    {
        Action.READ_WORKLIST: {Role.MHP},
        Action.RECORD_DECISION: {Role.MHP},
        Action.READ_CALL: {Role.MHP, Role.CLINICAL_LEAD},
    }
)
