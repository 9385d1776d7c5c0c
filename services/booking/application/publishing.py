"""Booking's domain events as contract events, staged in the unit of work's outbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from services.booking.application.context import producer_for
from services.booking.application.unit_of_work import BookingUnitOfWork
from services.booking.domain.events import (
    AppointmentWasBooked,
    AppointmentWasCancelled,
    CaseNeedsEscalation,
    CaseWaitlisted,
    DomainEvent,
    SessionWasCancelled,
    SessionWasScheduled,
)
from shared.contracts.envelope import Envelope
from shared.contracts.v1 import (
    AppointmentBooked,
    AppointmentBookedData,
    AppointmentCancelled,
    AppointmentCancelledData,
    AppointmentWaitlisted,
    AppointmentWaitlistedData,
    CaseEscalated,
    CaseEscalatedData,
    SessionCancelled,
    SessionCancelledData,
    SessionScheduled,
    SessionScheduledData,
)


def is_own(event: Envelope[Any]) -> bool:
    # Exactly this PCN's booking service: a practice system naming itself ".../booking" is not us.
    return event.producer == producer_for(event.pcn_code)


def publish(
    uow: BookingUnitOfWork, events: Iterable[DomainEvent], cause: Envelope[Any] | None
) -> list[Envelope[Any]]:
    """Stage each event (published only if the unit of work commits); returns the envelopes."""
    staged = [envelope_of(event, cause) for event in events]
    for envelope in staged:
        uow.add_event(envelope)
    return staged


def envelope_of(event: DomainEvent, cause: Envelope[Any] | None) -> Envelope[Any]:
    cls, data, (pcn_code, practice_ods, correlation_id) = _contract(event)
    return cls.create(
        data,
        producer=producer_for(pcn_code),
        pcn_code=pcn_code,
        practice_ods=practice_ods,
        correlation_id=correlation_id,
        causation_id=cause.event_id if cause else None,
    )


def _contract(event: DomainEvent) -> tuple[type[Envelope[Any]], Any, tuple[str, str, uuid.UUID]]:
    """The contract class, data and routing (PCN, the patient's or session's practice, correlation)."""
    match event:
        case SessionWasScheduled(session=s):
            data: Any = SessionScheduledData(
                session_id=s.session_id,
                session_date=s.session_date,
                period=s.period,
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                modalities=s.modalities,
                room=s.room,
                clinician=s.clinician,
            )
            # A session is no patient's episode: it is its own correlation.
            return SessionScheduled, data, (s.pcn_code, s.practice_ods, s.session_id)
        case SessionWasCancelled(session=s):
            data = SessionCancelledData(
                session_id=s.session_id, reason_code=event.reason_code, reason=event.reason
            )
            return SessionCancelled, data, (s.pcn_code, s.practice_ods, s.session_id)
        case AppointmentWasBooked(appointment=a):
            data = AppointmentBookedData(
                appointment_id=a.appointment_id,
                call_id=a.call_id,
                session_id=a.session_id,
                starts_at=a.starts_at,
                minutes=a.minutes,
                modality=a.modality,
                appointment_type=a.appointment_type,
                booked_by=a.booked_by,
                respond_by=a.respond_by,
            )
            return AppointmentBooked, data, (a.pcn_code, a.home_practice_ods, a.correlation_id)
        case AppointmentWasCancelled():
            data = AppointmentCancelledData(
                appointment_id=event.appointment_id, cancelled_by=event.cancelled_by, late=event.late
            )
            return AppointmentCancelled, data, (event.pcn_code, event.practice_ods, event.correlation_id)
        case CaseWaitlisted(entry=e):
            data = AppointmentWaitlistedData(
                call_id=e.call_id, respond_by=e.respond_by, modality=e.modality, minutes=e.minutes
            )
            return AppointmentWaitlisted, data, (e.pcn_code, e.practice_ods, e.correlation_id)
        case CaseNeedsEscalation():
            data = CaseEscalatedData(
                escalation_id=uuid.uuid4(),
                target=event.target,
                reason=event.reason,
                call_id=event.call_id,
                appointment_id=event.appointment_id,
                due_at=event.due_at,
            )
            return CaseEscalated, data, (event.pcn_code, event.practice_ods, event.correlation_id)
    raise TypeError(f"no contract event for {type(event).__name__}")
