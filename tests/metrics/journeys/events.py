"""The events a set of journeys and sessions publishes, as the producing services would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.contracts.codes import (
    BookedBy,
    Disposition,
    EscalationReason,
    Modality,
    ReferralWithdrawnReason,
)
from shared.contracts.envelope import Envelope, PatientIdentity
from shared.contracts.v1 import (
    AppointmentAttended,
    AppointmentAttendedData,
    AppointmentBooked,
    AppointmentBookedData,
    AppointmentCancelled,
    AppointmentCancelledData,
    AppointmentDna,
    AppointmentDnaData,
    AppointmentWaitlisted,
    AppointmentWaitlistedData,
    CallReceived,
    CallReceivedData,
    CallTriaged,
    CallTriagedData,
    CaseEscalated,
    CaseEscalatedData,
    DnaFollowedUp,
    DnaFollowedUpData,
    EscalationAcknowledged,
    EscalationAcknowledgedData,
    EscalationResolved,
    EscalationResolvedData,
    ReferralAccepted,
    ReferralAcceptedData,
    ReferralCompleted,
    ReferralCompletedData,
    ReferralDeclined,
    ReferralDeclinedData,
    ReferralMade,
    ReferralMadeData,
    ReferralWithdrawn,
    ReferralWithdrawnData,
    SessionCancelled,
    SessionCancelledData,
    SessionScheduled,
    SessionScheduledData,
    SignpostRecorded,
    SignpostRecordedData,
)
from tests.metrics.journeys.model import (
    Journey,
    Session,
)


def events(journeys: list[Journey], sessions: list[Session]) -> list[Envelope[Any]]:
    out: list[Envelope[Any]] = []
    for s in sessions:
        org: dict[str, Any] = {
            "producer": f"{s.pcn}/booking",  # booking is the PCN's
            "pcn_code": s.pcn,
            "practice_ods": s.practice,
            "correlation_id": uuid.uuid4(),
        }
        out.append(
            SessionScheduled.create(
                SessionScheduledData(
                    session_id=s.session_id,
                    session_date=s.day,
                    period=s.period,
                    starts_at=s.starts_at,
                    ends_at=s.ends_at,
                    modalities=(Modality.TELEPHONE, Modality.FACE_TO_FACE),
                    room="Room 3",
                    clinician="mhp-001",
                ),
                occurred_at=datetime(2026, 9, 1, 9, tzinfo=UTC),
                **org,
            )
        )
        if s.cancelled_at is not None:
            out.append(
                SessionCancelled.create(
                    SessionCancelledData(session_id=s.session_id, reason="MHP off sick"),
                    occurred_at=s.cancelled_at,
                    **org,
                )
            )
    for j in journeys:
        out.extend(_journey_events(j))
    return out


def _journey_events(j: Journey) -> list[Envelope[Any]]:
    org: dict[str, Any] = {"pcn_code": j.pcn, "practice_ods": j.practice, "correlation_id": j.correlation_id}
    out: list[Envelope[Any]] = []
    if j.call_id is not None:
        assert j.channel is not None
        assert j.received_at is not None
        out.append(
            CallReceived.create(
                CallReceivedData(
                    call_id=j.call_id,
                    channel=j.channel,
                    patient=PatientIdentity(nhs_number=j.nhs_number, date_of_birth=j.date_of_birth),
                    reason=j.reason,
                ),
                producer=f"{j.practice}/reception",
                occurred_at=j.received_at,
                **org,
            )
        )
        previous: uuid.UUID | None = None
        for sequence, (at, code, disposition, respond_by, oos) in enumerate(j.triages, start=1):
            needs_minutes = disposition in (Disposition.URGENT_APPOINTMENT, Disposition.APPOINTMENT)
            triaged = CallTriaged.create(
                CallTriagedData(
                    call_id=j.call_id,
                    triage_code=code,
                    disposition=disposition,
                    respond_by=respond_by,
                    appointment_minutes=30 if needs_minutes else None,
                    out_of_scope_reason=oos,
                    supersedes=previous,
                    decision_sequence=sequence,
                    clinician="mhp-001",
                ),
                producer="RMH/triage",
                occurred_at=at,
                **org,
            )
            previous = triaged.event_id
            out.append(triaged)
        if j.waitlisted_at is not None:
            out.append(
                AppointmentWaitlisted.create(
                    AppointmentWaitlistedData(
                        call_id=j.call_id, respond_by=j.triages[-1][3] or j.waitlisted_at, minutes=30
                    ),
                    producer=f"{j.pcn}/booking",
                    occurred_at=j.waitlisted_at,
                    **org,
                )
            )
    for escalation_id, at, reason, target in j.escalations:
        out.append(
            CaseEscalated.create(
                CaseEscalatedData(
                    escalation_id=escalation_id,
                    target=target,
                    reason=reason,
                    call_id=j.call_id,
                    acknowledge_by=at + timedelta(hours=1),
                ),
                producer="RMH/triage",
                occurred_at=at,
                **org,
            )
        )
        out.extend(_owned_escalation_events(j, escalation_id, org))
    for a in j.appointments:
        direct = a.booked_by is BookedBy.PRACTICE_DIRECT
        out.append(
            AppointmentBooked.create(
                AppointmentBookedData(
                    appointment_id=a.appointment_id,
                    call_id=j.call_id,
                    starts_at=a.starts_at,
                    minutes=a.minutes,
                    modality=Modality.FACE_TO_FACE,
                    appointment_type=a.kind,
                    booked_by=a.booked_by,
                    respond_by=a.respond_by,
                ),
                producer=f"{j.practice}/clinical-system" if direct else f"{j.pcn}/booking",
                occurred_at=a.booked_at,
                **org,
            )
        )
        if a.cancelled is not None:
            out.append(
                AppointmentCancelled.create(
                    AppointmentCancelledData(appointment_id=a.appointment_id, cancelled_by=a.cancelled[1]),
                    producer=f"{j.pcn}/booking",
                    occurred_at=a.cancelled[0],
                    **org,
                )
            )
        if a.outcome == "attended":
            assert a.next_step is not None
            out.append(
                AppointmentAttended.create(
                    AppointmentAttendedData(
                        appointment_id=a.appointment_id,
                        attendance=a.attendance,
                        next_step=a.next_step,
                    ),
                    producer=f"{j.practice}/clinical-system",
                    occurred_at=a.outcome_at,
                    **org,
                )
            )
        elif a.outcome == "dna":
            out.append(
                AppointmentDna.create(
                    AppointmentDnaData(appointment_id=a.appointment_id, attendance=a.attendance),
                    producer=f"{j.practice}/clinical-system",
                    occurred_at=a.outcome_at,
                    **org,
                )
            )
        if a.follow_up is not None:
            out.append(
                DnaFollowedUp.create(
                    DnaFollowedUpData(appointment_id=a.appointment_id, outcome=a.follow_up[1]),
                    producer="RMH/referrals",
                    occurred_at=a.follow_up[0],
                    **org,
                )
            )
    ref_org: dict[str, Any] = {"producer": "RMH/referrals", **org}
    for r in j.referrals:
        out.append(
            ReferralMade.create(
                ReferralMadeData(
                    referral_id=r.referral_id,
                    destination=r.destination,
                    call_id=j.call_id,
                    previous_referral_id=r.previous,
                ),
                producer="RMH/referrals",
                occurred_at=r.made_at,
                **org,
            )
        )
        lifecycle: list[tuple[datetime | None, Envelope[Any]]] = []
        if r.accepted_at is not None:
            data = ReferralAcceptedData(referral_id=r.referral_id)
            lifecycle.append(
                (r.accepted_at, ReferralAccepted.create(data, occurred_at=r.accepted_at, **ref_org))
            )
        if r.declined_at is not None:
            declined = ReferralDeclinedData(referral_id=r.referral_id, reason="waiting list closed")
            lifecycle.append(
                (r.declined_at, ReferralDeclined.create(declined, occurred_at=r.declined_at, **ref_org))
            )
        if r.completed_at is not None:
            done = ReferralCompletedData(referral_id=r.referral_id)
            lifecycle.append(
                (r.completed_at, ReferralCompleted.create(done, occurred_at=r.completed_at, **ref_org))
            )
        if r.withdrawn_at is not None:
            withdrawn = ReferralWithdrawnData(
                referral_id=r.referral_id, reason=ReferralWithdrawnReason.RETRIAGED, call_id=j.call_id
            )
            lifecycle.append(
                (r.withdrawn_at, ReferralWithdrawn.create(withdrawn, occurred_at=r.withdrawn_at, **ref_org))
            )
        out.extend(e for _, e in lifecycle)
    for signpost_id, at, destination, outcome, oos in j.signposts:
        out.append(
            SignpostRecorded.create(
                SignpostRecordedData(
                    signpost_id=signpost_id,
                    destination=destination,
                    outcome=outcome,
                    call_id=j.call_id,
                    out_of_scope_reason=oos,
                ),
                producer="RMH/referrals",
                occurred_at=at,
                **org,
            )
        )
    return out


def _owned_escalation_events(
    j: Journey, escalation_id: uuid.UUID, org: dict[str, Any]
) -> list[Envelope[Any]]:
    """The ladder's re-escalation (same id, rung 1), the acknowledgement and the resolution, by referrals."""
    out: list[Envelope[Any]] = []
    ref_org: dict[str, Any] = {"producer": "RMH/referrals", **org}
    if escalation_id in j.climbed:
        at, owner = j.climbed[escalation_id]
        climbed = CaseEscalatedData(
            escalation_id=escalation_id,
            target=owner,
            reason=EscalationReason.UNACKNOWLEDGED,
            call_id=j.call_id,
            assigned_to="duty-manager-01",
            rung=1,
            acknowledge_by=at + timedelta(minutes=30),
        )
        out.append(CaseEscalated.create(climbed, occurred_at=at, **ref_org))
    if escalation_id in j.acknowledged:
        at = j.acknowledged[escalation_id]
        first_owner = next(t for e, _, _, t in j.escalations if e == escalation_id)
        owner, rung = (j.climbed[escalation_id][1], 1) if escalation_id in j.climbed else (first_owner, 0)
        acknowledged = EscalationAcknowledgedData(
            escalation_id=escalation_id, acknowledged_by="lead-0042", target=owner, rung=rung
        )
        out.append(EscalationAcknowledged.create(acknowledged, occurred_at=at, **ref_org))
    if escalation_id in j.resolved:
        at, outcome = j.resolved[escalation_id]
        resolved = EscalationResolvedData(
            escalation_id=escalation_id,
            resolved_by="lead-0042",
            outcome=outcome,
            note="called back and safety-netted",
        )
        out.append(EscalationResolved.create(resolved, occurred_at=at, **ref_org))
    return out
