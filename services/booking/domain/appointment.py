"""The appointment aggregate: booked on claimed slots, then cancelled, attended or not attended."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from services.booking.domain.allocation import HeldSlots, SlotQuery, appointment_modality, home_then_pcn
from services.booking.domain.events import AppointmentWasCancelled, CaseNeedsEscalation
from services.booking.domain.rota import Slot
from services.booking.domain.urgency import Urgency, is_urgent
from shared.contracts.codes import (
    AppointmentType,
    AttendanceStatus,
    BookedBy,
    CancelledBy,
    EscalationReason,
    EscalationTarget,
    Modality,
    NextStep,
)
from shared.errors import RuleViolation


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    ATTENDED = "attended"
    DNA = "dna"
    CANCELLED = "cancelled"


class AppointmentNotBooked(RuleViolation):
    """Only a booked appointment can be cancelled (the reason names its status, never the patient)."""

    def __init__(self, status: AppointmentStatus) -> None:
        super().__init__(f"status: appointment is {status.value}, not booked")
        self.status = status


class OutcomeBeforeStart(RuleViolation):
    """Nobody can have attended, or failed to attend, an appointment that has not started."""

    def __init__(self) -> None:
        super().__init__("attendance: an outcome cannot be recorded before the appointment starts")


CANCELLED_ATTENDANCE = {
    CancelledBy.PATIENT: AttendanceStatus.CANCELLED_BY_PATIENT,
    CancelledBy.PROVIDER: AttendanceStatus.CANCELLED_BY_PROVIDER,
}


@dataclass
class Appointment:
    appointment_id: uuid.UUID
    correlation_id: uuid.UUID
    call_id: uuid.UUID | None
    pcn_code: str
    practice_ods: str  # where the slot is
    home_practice_ods: str  # the patient's practice: events about the appointment are routed by it
    session_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    minutes: int
    modality: Modality
    appointment_type: AppointmentType
    booked_by: BookedBy
    created_at: datetime
    respond_by: datetime | None = None
    status: AppointmentStatus = AppointmentStatus.BOOKED
    attendance: AttendanceStatus | None = None
    cancelled_late: bool = False
    next_step: NextStep | None = None
    slot_ids: tuple[uuid.UUID, ...] = field(default=())
    urgency: Urgency = Urgency.ROUTINE  # the case's, kept so a rebooking keeps it

    @property
    def is_booked(self) -> bool:
        return self.status is AppointmentStatus.BOOKED

    def concerns(self, pcn_code: str, practice_ods: str) -> bool:
        """A practice reports on an appointment of its PCN held at its premises or for its own patient."""
        return pcn_code == self.pcn_code and practice_ods in (self.practice_ods, self.home_practice_ods)

    def cancel(self, by: CancelledBy, *, late: bool = False) -> list[AppointmentWasCancelled]:
        """Cancel a booked appointment; its slots are then free again. Anything else cannot be cancelled."""
        if not self.is_booked:
            raise AppointmentNotBooked(self.status)
        self.status = AppointmentStatus.CANCELLED
        self.attendance = CANCELLED_ATTENDANCE[by]
        self.cancelled_late = late
        return [
            AppointmentWasCancelled(
                appointment_id=self.appointment_id,
                cancelled_by=by,
                late=late,
                pcn_code=self.pcn_code,
                practice_ods=self.home_practice_ods,
                correlation_id=self.correlation_id,
            )
        ]

    def _check_started_by(self, recorded_at: datetime) -> None:
        if recorded_at < self.starts_at:
            raise OutcomeBeforeStart()

    def attend(self, attendance: AttendanceStatus, next_step: NextStep, *, recorded_at: datetime) -> bool:
        """Record that the patient was seen; False if it was already recorded (a re-sent outcome).

        Booking announces no attendance (the practice's system did); the next step may book a follow-up.
        An outcome recorded before the appointment starts is refused.
        """
        self._check_started_by(recorded_at)
        if self.status is AppointmentStatus.ATTENDED:
            return False
        self.status = AppointmentStatus.ATTENDED
        self.attendance = attendance
        self.next_step = next_step
        return True

    def seen_after_cancellation(self) -> CaseNeedsEscalation:
        """A practice says the patient was seen at an appointment booking holds as cancelled (hazard H12).

        The patient was seen, so the outcome stands and its next step is acted on; the slots it held may
        be another patient's by now, so they are left alone, and the practice's clinical lead reconciles it.
        """
        return CaseNeedsEscalation(
            target=EscalationTarget.PRACTICE_CLINICAL_LEAD,
            reason=EscalationReason.OUTCOME_FOR_CANCELLED_APPOINTMENT,
            pcn_code=self.pcn_code,
            practice_ods=self.home_practice_ods,
            correlation_id=self.correlation_id,
            call_id=self.call_id,
            appointment_id=self.appointment_id,
        )

    def dna(self, attendance: AttendanceStatus, *, recorded_at: datetime) -> bool:
        """Record a did-not-attend; an attended or cancelled appointment keeps its outcome (False)."""
        self._check_started_by(recorded_at)
        if self.status not in (AppointmentStatus.BOOKED, AppointmentStatus.DNA):
            return False
        self.status = AppointmentStatus.DNA
        self.attendance = attendance
        return True

    def rebooking(self, window: timedelta) -> BookingRequest:
        """What to book when the provider cancels this appointment's session.

        Before the clinical deadline if it has one; else within `window` of the old start, and that
        stand-in deadline is not a clinical one (the new appointment keeps no respond_by).
        """
        return BookingRequest(
            call_id=self.call_id,
            correlation_id=self.correlation_id,
            pcn_code=self.pcn_code,
            home_practice_ods=self.home_practice_ods,
            respond_by=self.respond_by or self.starts_at + window,
            modality=self.modality,
            minutes=self.minutes,
            appointment_type=self.appointment_type,
            booked_by=self.booked_by,
            deadline_is_clinical=self.respond_by is not None,
            replaces=self.appointment_id,
            urgency=self.urgency,
        )


@dataclass(frozen=True)
class BookingRequest:
    """A case to book by its deadline and urgency: the earliest fitting slot it may take, home practice
    first (a routine case: not a held slot, and from a later point when urgent demand needs the earlier)."""

    call_id: uuid.UUID | None
    correlation_id: uuid.UUID
    pcn_code: str
    home_practice_ods: str
    respond_by: datetime
    modality: Modality | None
    minutes: int
    appointment_type: AppointmentType = AppointmentType.INITIAL_ASSESSMENT
    booked_by: BookedBy = BookedBy.MHP_SERVICE
    deadline_is_clinical: bool = True
    replaces: uuid.UUID | None = None  # the cancelled appointment being rebooked, if any
    urgency: Urgency = Urgency.ROUTINE

    def is_urgent(self, now: datetime) -> bool:
        return is_urgent(self.urgency, self.respond_by, now)

    def searches(
        self,
        now: datetime,
        *,
        within_deadline: bool = True,
        held: HeldSlots | None = None,
        later_from: datetime | None = None,
    ) -> list[SlotQuery]:
        """Home practice first, then the PCN; a case already waiting takes any slot soonest.

        `held`: the slots this case may not take yet. `later_from`: start looking there, then fall back to
        the earliest slot of the window before the case is waitlisted.
        """
        query = SlotQuery(
            self.pcn_code,
            None,
            self.modality,
            self.minutes,
            not_before=now,
            starts_before=self.respond_by if within_deadline else None,
            held=held,
        )
        earliest = home_then_pcn(query, self.home_practice_ods)
        if later_from is None or later_from <= now:
            return earliest
        return home_then_pcn(replace(query, not_before=later_from), self.home_practice_ods) + earliest

    def appointment_on(self, slots: list[Slot], now: datetime) -> Appointment:
        return book_on(
            slots,
            appointment_id=uuid.uuid4(),
            correlation_id=self.correlation_id,
            call_id=self.call_id,
            home_practice_ods=self.home_practice_ods,
            modality=self.modality,
            minutes=self.minutes,
            appointment_type=self.appointment_type,
            booked_by=self.booked_by,
            respond_by=self.respond_by if self.deadline_is_clinical else None,
            now=now,
            urgency=self.urgency,
        )

    @property
    def waitlist_call_id(self) -> uuid.UUID:
        # A direct booking has no call: its waitlist entry is keyed by the cancelled appointment's id.
        return self.call_id or self.replaces or uuid.uuid4()


def book_on(
    slots: list[Slot],
    *,
    appointment_id: uuid.UUID,
    correlation_id: uuid.UUID,
    call_id: uuid.UUID | None,
    home_practice_ods: str,
    modality: Modality | None,
    minutes: int,
    appointment_type: AppointmentType,
    booked_by: BookedBy,
    respond_by: datetime | None,
    now: datetime,
    fallback_modality: Modality = Modality.TELEPHONE,
    urgency: Urgency = Urgency.ROUTINE,
) -> Appointment:
    """A new appointment on the slots found for it (the caller claims them)."""
    return Appointment(
        appointment_id=appointment_id,
        correlation_id=correlation_id,
        call_id=call_id,
        pcn_code=slots[0].pcn_code,
        practice_ods=slots[0].practice_ods,
        home_practice_ods=home_practice_ods,
        session_id=slots[0].session_id,
        starts_at=slots[0].starts_at,
        ends_at=slots[-1].ends_at,
        minutes=minutes,
        modality=appointment_modality(modality, slots, fallback_modality),
        appointment_type=appointment_type,
        booked_by=booked_by,
        respond_by=respond_by,
        created_at=now,
        slot_ids=tuple(s.slot_id for s in slots),
        urgency=urgency,
    )
