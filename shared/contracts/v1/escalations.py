"""v1 events of an escalation's life after `case.escalated`: its owner acknowledges it, then resolves it.

Referrals holds the trust's directory of named people, so it owns escalations: it records every
`case.escalated`, climbs the ladder when nobody acknowledges in time (a new `case.escalated` with the same
`escalation_id` and a higher `rung`) and publishes these two as the owner acts.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from shared.contracts.codes import EscalationOutcome, EscalationTarget
from shared.contracts.envelope import Contract, Envelope, StaffId
from shared.contracts.text import IdentifierFreeText


class EscalationAcknowledgedData(Contract):
    escalation_id: uuid.UUID
    acknowledged_by: StaffId = Field(description="The signed-in person who took it on.")
    target: EscalationTarget = Field(description="The rung's owner they acknowledged it as.")
    rung: int = Field(ge=0, le=20, description="The ladder rung the escalation had reached.")


class EscalationAcknowledged(Envelope[EscalationAcknowledgedData]):
    EVENT_TYPE = "escalation.acknowledged"
    event_type: Literal["escalation.acknowledged"] = "escalation.acknowledged"


class EscalationResolvedData(Contract):
    escalation_id: uuid.UUID
    resolved_by: StaffId = Field(description="The signed-in person who closed it.")
    outcome: EscalationOutcome
    note: IdentifierFreeText | None = Field(
        default=None, max_length=200, description="Free text beside the outcome code; no patient identifiers."
    )


class EscalationResolved(Envelope[EscalationResolvedData]):
    EVENT_TYPE = "escalation.resolved"
    event_type: Literal["escalation.resolved"] = "escalation.resolved"
