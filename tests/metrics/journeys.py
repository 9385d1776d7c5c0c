"""Seeded synthetic patient journeys for the metrics tests, the events they publish, and the monthly return
computed independently from the journeys themselves (never from the events or the service's code)."""

from __future__ import annotations

import random
import statistics
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.contracts.codes import (
    AppointmentType,
    AttendanceStatus,
    BookedBy,
    CancelledBy,
    Channel,
    Destination,
    Disposition,
    DnaFollowUpOutcome,
    EscalationReason,
    EscalationTarget,
    Modality,
    NextStep,
    OutOfScopeReason,
    SessionPeriod,
    SignpostOutcome,
    TriageCode,
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
    ReferralAccepted,
    ReferralAcceptedData,
    ReferralCompleted,
    ReferralCompletedData,
    ReferralDeclined,
    ReferralDeclinedData,
    ReferralMade,
    ReferralMadeData,
    SessionCancelled,
    SessionCancelledData,
    SessionScheduled,
    SessionScheduledData,
    SignpostRecorded,
    SignpostRecordedData,
)
from tests.support.factories import synthetic_nhs_number

LONDON = ZoneInfo("Europe/London")
MONTH = "2026-10"
AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PCNS: dict[str, tuple[str, ...]] = {"U00123": ("Y01234", "Y01235", "Y01236"), "U00456": ("Y02001", "Y02002")}
WINDOW = {"A": timedelta(0), "B": timedelta(hours=4), "C": timedelta(hours=24), "D": timedelta(hours=72)}
WINDOW["E"] = timedelta(weeks=4)


@dataclass
class Appointment:
    appointment_id: uuid.UUID
    kind: AppointmentType
    booked_at: datetime
    starts_at: datetime
    minutes: int
    booked_by: BookedBy = BookedBy.MHP_SERVICE
    respond_by: datetime | None = None
    cancelled: tuple[datetime, CancelledBy] | None = None
    outcome: str | None = None  # "attended" / "dna"
    attendance: AttendanceStatus | None = None
    outcome_at: datetime | None = None
    next_step: NextStep | None = None
    follow_up: tuple[datetime, DnaFollowUpOutcome] | None = None


@dataclass
class Referral:
    referral_id: uuid.UUID
    destination: Destination
    made_at: datetime
    previous: uuid.UUID | None = None
    accepted_at: datetime | None = None
    declined_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass
class Journey:
    pcn: str
    practice: str
    correlation_id: uuid.UUID
    call_id: uuid.UUID | None = None
    channel: Channel | None = None
    nhs_number: str = ""
    date_of_birth: date = date(1980, 1, 1)
    received_at: datetime | None = None
    reason: str = ""
    triages: list[tuple[datetime, TriageCode, Disposition, datetime | None, OutOfScopeReason | None]] = field(
        default_factory=list
    )
    waitlisted_at: datetime | None = None
    escalations: list[tuple[uuid.UUID, datetime, EscalationReason, EscalationTarget]] = field(
        default_factory=list
    )
    appointments: list[Appointment] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    signposts: list[tuple[uuid.UUID, datetime, Destination, SignpostOutcome, OutOfScopeReason | None]] = (
        field(default_factory=list)
    )


@dataclass
class Session:
    session_id: uuid.UUID
    pcn: str
    practice: str
    day: date
    period: SessionPeriod
    starts_at: datetime
    ends_at: datetime
    cancelled_at: datetime | None = None


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


def _instant(rng: random.Random) -> datetime:
    # A tenth of journeys start within two hours of a month boundary (one before, one after BST ends).
    if rng.random() < 0.1:
        boundary = rng.choice([_local(date(2026, 10, 1), 0), _local(date(2026, 11, 1), 0)])
        return boundary + timedelta(minutes=rng.randint(-120, 120))
    start = datetime(2026, 9, 26, tzinfo=UTC)
    return start + timedelta(minutes=rng.randint(0, 38 * 24 * 60))


def generate(seed: int = 20261001, journeys_per_pcn: int = 90) -> tuple[list[Journey], list[Session]]:
    rng = random.Random(seed)
    journeys = [
        _journey(rng, pcn, rng.choice(practices))
        for pcn, practices in PCNS.items()
        for _ in range(journeys_per_pcn)
    ]
    sessions = []
    for pcn, practices in PCNS.items():
        for practice in practices:
            day = date(2026, 9, 28)
            while day <= date(2026, 11, 6):
                if day.weekday() < 5:
                    for period, (h1, m1, h2, m2) in (
                        (SessionPeriod.AM, (9, 0, 12, 30)),
                        (SessionPeriod.PM, (13, 30, 17, 0)),
                    ):
                        if rng.random() < 0.5:
                            continue
                        cancelled = _local(day, 8) - timedelta(days=2) if rng.random() < 0.08 else None
                        sessions.append(
                            Session(
                                uuid.uuid4(),
                                pcn,
                                practice,
                                day,
                                period,
                                _local(day, h1, m1),
                                _local(day, h2, m2),
                                cancelled,
                            )
                        )
                day += timedelta(days=1)
    return journeys, sessions


def _journey(rng: random.Random, pcn: str, practice: str) -> Journey:
    j = Journey(pcn=pcn, practice=practice, correlation_id=uuid.uuid4())
    t0 = _instant(rng)
    if rng.random() < 0.1:
        # A practice books the patient straight in: no call, no triage.
        appt = Appointment(
            uuid.uuid4(),
            AppointmentType.INITIAL_ASSESSMENT,
            t0,
            t0 + timedelta(days=rng.randint(0, 5), hours=2),
            30,
            booked_by=BookedBy.PRACTICE_DIRECT,
        )
        _outcome(rng, j, appt)
        j.appointments.insert(0, appt)
        return j
    j.call_id = uuid.uuid4()
    j.channel = rng.choice([c for c in Channel if c is not Channel.DIRECT_BOOKING])
    j.nhs_number = synthetic_nhs_number(rng)
    j.date_of_birth = date(rng.randint(1950, 2006), rng.randint(1, 12), rng.randint(1, 28))
    j.received_at = t0
    j.reason = f"free-text-reason-{uuid.uuid4().hex[:12]} low mood"
    if rng.random() < 0.06:
        j.escalations.append(
            (
                uuid.uuid4(),
                t0 + timedelta(hours=3),
                EscalationReason.TRIAGE_DEADLINE_BREACH,
                EscalationTarget.DUTY_GP,
            )
        )
    if rng.random() < 0.07:
        return j  # not triaged yet
    triaged_at = t0 + timedelta(minutes=rng.randint(5, 600))
    if rng.random() < 0.1:
        # Out of scope: redirected, and the redirection recorded.
        reason = rng.choice(list(OutOfScopeReason))
        j.triages.append((triaged_at, TriageCode.F, Disposition.OUT_OF_SCOPE, None, reason))
        j.signposts.append(
            (
                uuid.uuid4(),
                triaged_at + timedelta(minutes=15),
                rng.choice(list(Destination)),
                SignpostOutcome.REDIRECTED,
                reason,
            )
        )
        return j
    code = rng.choices(list(TriageCode), weights=[3, 5, 15, 25, 25, 12, 15])[0]
    if code.value in "CDE" and rng.random() < 0.15:
        # Re-triaged: the first decision is superseded 40 minutes later.
        j.triages.append((triaged_at, TriageCode.E, Disposition.APPOINTMENT, triaged_at + WINDOW["E"], None))
        triaged_at += timedelta(minutes=40)
    if code in (TriageCode.A, TriageCode.B):
        j.triages.append((triaged_at, code, Disposition.ESCALATE, triaged_at + WINDOW[code.value], None))
        target = EscalationTarget.EMERGENCY_SERVICES if code is TriageCode.A else EscalationTarget.CRISIS_TEAM
        j.escalations.append((uuid.uuid4(), triaged_at + timedelta(minutes=1), EscalationReason.RISK, target))
    elif code in (TriageCode.C, TriageCode.D, TriageCode.E):
        disposition = Disposition.URGENT_APPOINTMENT if code is TriageCode.C else Disposition.APPOINTMENT
        respond_by = triaged_at + WINDOW[code.value]
        j.triages.append((triaged_at, code, disposition, respond_by, None))
        minutes = rng.choice([30, 30, 60])
        if rng.random() < 0.15:
            j.waitlisted_at = triaged_at + timedelta(minutes=2)
            j.escalations.append(
                (
                    uuid.uuid4(),
                    triaged_at + timedelta(minutes=3),
                    EscalationReason.APPOINTMENT_DEADLINE_AT_RISK,
                    EscalationTarget.PRACTICE_CLINICAL_LEAD,
                )
            )
            if rng.random() < 0.5:
                return j
        booked_at = triaged_at + timedelta(minutes=5)
        starts = triaged_at + WINDOW[code.value] * rng.uniform(0.1, 1.3)
        starts = starts.replace(second=0, microsecond=0)
        if rng.random() < 0.12:
            first = Appointment(
                uuid.uuid4(),
                AppointmentType.INITIAL_ASSESSMENT,
                booked_at,
                starts,
                minutes,
                respond_by=respond_by,
            )
            first.cancelled = (booked_at + timedelta(hours=1), rng.choice(list(CancelledBy)))
            j.appointments.append(first)
            booked_at += timedelta(hours=2)
            starts += timedelta(hours=rng.randint(1, 30))
        appt = Appointment(
            uuid.uuid4(),
            AppointmentType.INITIAL_ASSESSMENT,
            booked_at,
            starts,
            minutes,
            respond_by=respond_by,
        )
        j.appointments.append(appt)
        _outcome(rng, j, appt)
    elif code is TriageCode.F:
        j.triages.append((triaged_at, code, Disposition.REFER, None, None))
        _refer(rng, j, triaged_at + timedelta(minutes=20))
    else:
        disposition = rng.choice([Disposition.ADVICE, Disposition.SIGNPOST])
        j.triages.append((triaged_at, code, disposition, None, None))
        outcome = rng.choice([SignpostOutcome.INFORMATION_GIVEN, SignpostOutcome.SELF_REFERRAL_ADVISED])
        j.signposts.append(
            (uuid.uuid4(), triaged_at + timedelta(minutes=10), rng.choice(list(Destination)), outcome, None)
        )
    return j


def _outcome(rng: random.Random, j: Journey, appt: Appointment) -> None:
    roll = rng.random()
    end = appt.starts_at + timedelta(minutes=appt.minutes)
    if roll < 0.08:
        appt.cancelled = (appt.booked_at + timedelta(hours=3), rng.choice(list(CancelledBy)))
        return
    if roll < 0.16:
        return  # no outcome recorded (yet)
    appt.outcome_at = end
    if roll < 0.34:
        appt.outcome = "dna"
        appt.attendance = rng.choice(
            [AttendanceStatus.DID_NOT_ATTEND, AttendanceStatus.ARRIVED_LATE_NOT_SEEN]
        )
        if rng.random() < 0.85:
            outcome = rng.choice(list(DnaFollowUpOutcome))
            appt.follow_up = (end + timedelta(days=1), outcome)
            if outcome is DnaFollowUpOutcome.REBOOKED:
                j.appointments.append(
                    Appointment(
                        uuid.uuid4(),
                        AppointmentType.FOLLOW_UP,
                        end + timedelta(days=1),
                        end + timedelta(days=8),
                        30,
                    )
                )
        return
    appt.outcome = "attended"
    appt.attendance = rng.choice(
        [AttendanceStatus.ATTENDED, AttendanceStatus.ATTENDED, AttendanceStatus.ARRIVED_LATE_SEEN]
    )
    appt.next_step = rng.choice(list(NextStep))
    if appt.kind is not AppointmentType.INITIAL_ASSESSMENT:
        appt.next_step = NextStep.DISCHARGE
        return
    if appt.next_step is NextStep.FOLLOW_UP:
        second = Appointment(
            uuid.uuid4(),
            AppointmentType.SECOND_ASSESSMENT,
            end + timedelta(minutes=10),
            end + timedelta(days=7),
            30,
        )
        j.appointments.append(second)
        _outcome(rng, j, second)
    elif appt.next_step is NextStep.PRESCRIPTION:
        slot = Appointment(
            uuid.uuid4(),
            AppointmentType.PRESCRIPTION,
            end + timedelta(minutes=10),
            end + timedelta(days=2),
            30,
        )
        j.appointments.append(slot)
        _outcome(rng, j, slot)
    elif appt.next_step is NextStep.REFERRAL:
        _refer(rng, j, end + timedelta(minutes=30))


def _refer(rng: random.Random, j: Journey, at: datetime) -> None:
    ref = Referral(uuid.uuid4(), rng.choice(list(Destination)), at)
    j.referrals.append(ref)
    roll = rng.random()
    if roll < 0.3:
        ref.declined_at = at + timedelta(days=2)
        j.escalations.append(
            (
                uuid.uuid4(),
                ref.declined_at + timedelta(minutes=5),
                EscalationReason.BOUNCED_REFERRAL,
                EscalationTarget.PRACTICE_CLINICAL_LEAD,
            )
        )
        rerouted = Referral(
            uuid.uuid4(),
            rng.choice(list(Destination)),
            ref.declined_at + timedelta(hours=1),
            previous=ref.referral_id,
        )
        rerouted.accepted_at = rerouted.made_at + timedelta(days=1)
        j.referrals.append(rerouted)
    elif roll < 0.85:
        ref.accepted_at = at + timedelta(days=1)
        if rng.random() < 0.5:
            ref.completed_at = at + timedelta(days=9)


# --- the events a journey publishes ------------------------------------------------------------------


def events(journeys: list[Journey], sessions: list[Session]) -> list[Envelope[Any]]:
    out: list[Envelope[Any]] = []
    for s in sessions:
        org: dict[str, Any] = {
            "producer": "RMH/booking",
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
        for at, code, disposition, respond_by, oos in j.triages:
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
                    producer="RMH/booking",
                    occurred_at=j.waitlisted_at,
                    **org,
                )
            )
    for escalation_id, at, reason, target in j.escalations:
        out.append(
            CaseEscalated.create(
                CaseEscalatedData(
                    escalation_id=escalation_id, target=target, reason=reason, call_id=j.call_id
                ),
                producer="RMH/triage",
                occurred_at=at,
                **org,
            )
        )
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
                producer=f"{j.practice}/clinical-system" if direct else "RMH/booking",
                occurred_at=a.booked_at,
                **org,
            )
        )
        if a.cancelled is not None:
            out.append(
                AppointmentCancelled.create(
                    AppointmentCancelledData(appointment_id=a.appointment_id, cancelled_by=a.cancelled[1]),
                    producer="RMH/booking",
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


# --- ground truth, from the journeys ------------------------------------------------------------------


def _in_month(at: datetime | None, month: str = MONTH) -> bool:
    return at is not None and at.astimezone(LONDON).strftime("%Y-%m") == month


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def _med(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def expected_return(journeys: list[Journey], sessions: list[Session], pcn: str) -> dict[str, Any]:
    mine = [j for j in journeys if j.pcn == pcn]
    practices = sorted({j.practice for j in mine} | {s.practice for s in sessions if s.pcn == pcn})
    return {
        "pcn_total": expected_figures(mine, [s for s in sessions if s.pcn == pcn]),
        "practices": {
            p: expected_figures(
                [j for j in mine if j.practice == p], [s for s in sessions if s.practice == p]
            )
            for p in practices
        },
    }


def expected_figures(journeys: list[Journey], sessions: list[Session]) -> dict[str, Any]:
    appts = [(j, a) for j in journeys for a in j.appointments]
    attended = [(j, a) for j, a in appts if a.outcome == "attended" and _in_month(a.outcome_at)]
    dnas = [(j, a) for j, a in appts if a.outcome == "dna" and _in_month(a.outcome_at)]
    initial = [(j, a) for j, a in attended if a.kind is AppointmentType.INITIAL_ASSESSMENT]

    def channel_of(j: Journey) -> str:
        return j.channel.value if j.channel is not None else "direct_booking"

    channels = Counter(channel_of(j) for j, _ in initial)
    initial_assessments = {c.value: channels.get(c.value, 0) for c in Channel}
    initial_assessments["total"] = len(initial)

    live_sessions = [s for s in sessions if s.cancelled_at is None and s.day.strftime("%Y-%m") == MONTH]
    bookable = sum(int((s.ends_at - s.starts_at).total_seconds() // 60) - 30 for s in live_sessions)
    live_appts = [a for _, a in appts if a.cancelled is None and _in_month(a.starts_at)]
    booked = sum(a.minutes for a in live_appts)

    response: dict[str, Any] = {}
    for code in TriageCode:
        calls = [j for j in journeys if j.triages and j.triages[-1][1] is code and _in_month(j.triages[0][0])]
        row: dict[str, Any] = {
            "triaged": len(calls),
            "call_to_triage_median_minutes": _med(
                [(j.triages[0][0] - j.received_at).total_seconds() / 60 for j in calls if j.received_at]
            ),
        }
        if code.value in "CDE":
            within = breached = pending = 0
            waits = []
            for j in calls:
                live = sorted((a for a in j.appointments if a.cancelled is None), key=lambda a: a.starts_at)
                respond_by = j.triages[-1][3]
                assert respond_by is not None
                if live:
                    waits.append((live[0].starts_at - j.triages[-1][0]).total_seconds() / 60)
                    if live[0].starts_at <= respond_by:
                        within += 1
                    else:
                        breached += 1
                elif respond_by < AS_OF:
                    breached += 1
                else:
                    pending += 1
            row |= {
                "within_deadline": within,
                "breached": breached,
                "pending": pending,
                "deadline_met_rate": _rate(within, within + breached),
                "triage_to_appointment_median_minutes": _med(waits),
            }
        response[code.value] = row

    escalations = Counter(e[2].value for j in journeys for e in j.escalations if _in_month(e[1]))
    referrals_made = [r for j in journeys for r in j.referrals if _in_month(r.made_at)]
    declined = [r for j in journeys for r in j.referrals if _in_month(r.declined_at)]
    signposts = [s for j in journeys for s in j.signposts if _in_month(s[1])]
    follow_ups = Counter(a.follow_up[1].value for _, a in appts if a.follow_up and _in_month(a.follow_up[0]))
    oos = Counter(
        j.triages[-1][4].value
        for j in journeys
        if j.triages
        and j.triages[-1][2] is Disposition.OUT_OF_SCOPE
        and j.triages[-1][4]
        and _in_month(j.triages[0][0])
    )
    return {
        "initial_assessments": initial_assessments,
        "second_assessments": sum(1 for _, a in attended if a.kind is AppointmentType.SECOND_ASSESSMENT),
        "prescription_slots": {
            "booked": sum(
                1
                for _, a in appts
                if a.kind is AppointmentType.PRESCRIPTION and _in_month(a.booked_at) and a.cancelled is None
            ),
            "attended": sum(1 for _, a in attended if a.kind is AppointmentType.PRESCRIPTION),
        },
        "attendance": {
            "due": len(attended) + len(dnas),
            "attended": len(attended),
            "dna": len(dnas),
            "dna_rate": _rate(len(dnas), len(attended) + len(dnas)),
            "cancelled_by_patient": sum(
                1
                for _, a in appts
                if a.cancelled and a.cancelled[1] is CancelledBy.PATIENT and _in_month(a.cancelled[0])
            ),
            "cancelled_by_provider": sum(
                1
                for _, a in appts
                if a.cancelled and a.cancelled[1] is CancelledBy.PROVIDER and _in_month(a.cancelled[0])
            ),
        },
        "dna_follow_ups": {o.value: follow_ups.get(o.value, 0) for o in DnaFollowUpOutcome},
        "signposting": {o.value: sum(1 for s in signposts if s[3] is o) for o in SignpostOutcome},
        "signposting_by_destination": dict(Counter(s[2].value for s in signposts)),
        "capacity": {
            "sessions": len(live_sessions),
            "bookable_minutes": bookable,
            "booked_minutes": booked,
            "attended_minutes": sum(a.minutes for a in live_appts if a.outcome == "attended"),
            "utilisation": _rate(booked, bookable),
        },
        "response_times": response,
        "escalations": {r.value: escalations.get(r.value, 0) for r in EscalationReason},
        "referrals": {
            "made": len(referrals_made),
            "by_destination": dict(Counter(r.destination.value for r in referrals_made)),
            "bounced_back": len(declined),
            "bounced_back_by_destination": dict(Counter(r.destination.value for r in declined)),
            "rerouted": sum(1 for r in referrals_made if r.previous is not None),
        },
        "out_of_scope": {r.value: oos.get(r.value, 0) for r in OutOfScopeReason},
        "waitlisted": sum(1 for j in journeys if _in_month(j.waitlisted_at)),
        "gp_appointments_released": sum(
            1 for j, _ in initial if j.channel in (Channel.TELEPHONE, Channel.E_CONSULTATION, Channel.WALK_IN)
        ),
    }
