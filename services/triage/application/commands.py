"""What triage can be asked to do: a frozen dataclass per use case, named in the imperative."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from services.triage.domain.mhts import DecisionInput
from shared.contracts.codes import CallerUrgency, Channel


@dataclass(frozen=True)
class ReceiveCall:
    """Put a practice's call on the worklist (from `call.received`)."""

    call_id: uuid.UUID
    event_id: uuid.UUID
    correlation_id: uuid.UUID
    pcn_code: str
    practice_ods: str
    channel: Channel
    caller_urgency: CallerUrgency
    reason: str
    nhs_number: str
    date_of_birth: date
    occurred_at: datetime


@dataclass(frozen=True)
class RecordDecision:
    """The MHP's triage decision on a call; `decided_at` defaults to the context's clock."""

    call_id: uuid.UUID
    decision: DecisionInput
    decided_at: datetime | None = None


@dataclass(frozen=True)
class EscalateOverdueCalls:
    """Escalate to the duty GP, once each, calls still untriaged past their callback deadline."""

    limit: int = 100
