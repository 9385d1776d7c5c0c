"""Follow-ups: what an attended appointment's next step books, where, and whom to task if nothing fits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from services.booking.domain.allocation import SlotQuery
from services.booking.domain.appointment import Appointment
from services.booking.domain.events import CaseNeedsEscalation
from services.booking.domain.rota import SLOT_MINUTES
from shared.contracts.codes import AppointmentType, EscalationReason, EscalationTarget, NextStep

LOOK_AHEAD_SESSIONS = 20
"""How many of the practice's next sessions a follow-up may go into before the clinician is tasked."""


def follow_up_type(previous: AppointmentType) -> AppointmentType:
    """After an initial assessment comes the second assessment; after that, follow-ups."""
    if previous is AppointmentType.INITIAL_ASSESSMENT:
        return AppointmentType.SECOND_ASSESSMENT
    return AppointmentType.FOLLOW_UP


def next_appointment_type(previous: AppointmentType, next_step: NextStep) -> AppointmentType | None:
    """The appointment an attended one's next step books, if any (a referral or discharge books none)."""
    if next_step is NextStep.FOLLOW_UP:
        return follow_up_type(previous)
    if next_step is NextStep.PRESCRIPTION:
        return AppointmentType.PRESCRIPTION
    return None


def next_session_searches(
    previous: Appointment, session_ids: Sequence[uuid.UUID], now: datetime
) -> list[SlotQuery]:
    """One 30-minute slot, any modality, in the practice's next sessions in order, after the last one ends."""
    return [
        SlotQuery(
            previous.pcn_code,
            previous.practice_ods,
            None,
            SLOT_MINUTES,
            not_before=max(now, previous.ends_at),
            session_id=session_id,
        )
        for session_id in session_ids
    ]


def overdue_escalation_target(kind: AppointmentType) -> EscalationTarget:
    """A prescription that cannot be booked goes to the duty GP; any other follow-up to the GP."""
    return EscalationTarget.DUTY_GP if kind is AppointmentType.PRESCRIPTION else EscalationTarget.GP


def follow_up_overdue(
    previous: Appointment, kind: AppointmentType, *, pcn_code: str, correlation_id: uuid.UUID
) -> CaseNeedsEscalation:
    """No room in the sessions ahead: the clinician is tasked instead of the case silently waiting."""
    return CaseNeedsEscalation(
        target=overdue_escalation_target(kind),
        reason=EscalationReason.FOLLOW_UP_OVERDUE,
        pcn_code=pcn_code,
        practice_ods=previous.home_practice_ods,
        correlation_id=correlation_id,
        call_id=previous.call_id,
        appointment_id=previous.appointment_id,
    )
