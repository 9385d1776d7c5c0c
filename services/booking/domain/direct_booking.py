"""Direct bookings: a practice books a patient straight into an MHP slot, within its weekly volume."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.booking.domain.allocation import SlotQuery
from services.booking.domain.rota import Slot, SlotKind
from shared.contracts.codes import Modality
from shared.errors import RuleViolation
from shared.working_time import LONDON


class DirectBookingRefused(RuleViolation):
    """The practice is told why (HTTP 409, or appointment.cancelled by provider on AMQP)."""


SLOT_JUST_TAKEN = "the slot was booked by someone else a moment ago: search free slots again and pick another"
ALREADY_REFUSED = "this appointment_id was already refused"


def check_weekly_cap(*, used: int, cap: int, practice_ods: str, week_start: datetime) -> None:
    """A practice's direct bookings in one London week stop at its agreed volume."""
    if used >= cap:
        raise DirectBookingRefused(
            f"weekly direct-booking cap reached: {used} of {cap} for practice {practice_ods} "
            f"in the week starting {week_start.astimezone(LONDON).date().isoformat()}"
        )


def check_start_slot(slot: Slot | None) -> Slot:
    """A direct booking starts exactly at one of the practice's MHP clinical slots."""
    if slot is None or slot.kind is not SlotKind.CLINICAL:
        raise DirectBookingRefused("no MHP clinical slot starts at that time at this practice")
    return slot


def direct_search(start: Slot, *, modality: Modality, minutes: int) -> SlotQuery:
    """Exactly that slot (and the next one for 60 minutes), if free for this modality."""
    return SlotQuery(
        start.pcn_code,
        start.practice_ods,
        modality,
        minutes,
        not_before=start.starts_at,
        starts_before=start.starts_at + timedelta(seconds=1),
        session_id=start.session_id,
    )


def not_free(*, minutes: int, modality: Modality) -> DirectBookingRefused:
    return DirectBookingRefused(
        f"the slot at that time is not free for a {minutes}-minute {modality.value} appointment"
    )


@dataclass(frozen=True)
class Refusal:
    """Why a practice's direct booking was refused; kept so the practice can look it up."""

    appointment_id: uuid.UUID
    practice_ods: str
    reason: str
    refused_at: datetime
