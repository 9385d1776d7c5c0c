"""Builders for valid events, with synthetic patients (NHS numbers that pass Modulus 11)."""

from __future__ import annotations

import random
import uuid
from datetime import date
from typing import Any

from mhp import demo
from shared.contracts.codes import CallerUrgency, Channel
from shared.contracts.envelope import PatientIdentity
from shared.contracts.v1 import CallReceived, CallReceivedData

PCN = "U00123"
PRACTICE = "Y01234"


def synthetic_nhs_number(rng: random.Random | None = None) -> str:
    return demo.synthetic_nhs_number(rng or random.Random())


def call_received(
    *,
    pcn_code: str = PCN,
    practice_ods: str = PRACTICE,
    reason: str = "low mood and anxiety for three weeks",
    channel: Channel = Channel.TELEPHONE,
    date_of_birth: date = date(1985, 6, 1),
    call_id: uuid.UUID | None = None,
    **envelope: Any,
) -> CallReceived:
    return CallReceived.create(
        CallReceivedData(
            call_id=call_id or uuid.uuid4(),
            channel=channel,
            patient=PatientIdentity(nhs_number=synthetic_nhs_number(), date_of_birth=date_of_birth),
            reason=reason,
            caller_urgency=CallerUrgency.ROUTINE,
        ),
        producer=envelope.pop("producer", f"{practice_ods}/reception"),
        pcn_code=pcn_code,
        practice_ods=practice_ods,
        correlation_id=envelope.pop("correlation_id", uuid.uuid4()),
        **envelope,
    )
