"""Seeded synthetic journeys and rota sessions around October 2026 (month and clock-change edges)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

from shared.contracts.codes import (
    AppointmentType,
    AttendanceStatus,
    BookedBy,
    CancelledBy,
    Channel,
    Destination,
    Disposition,
    DnaFollowUpOutcome,
    EscalationOutcome,
    EscalationReason,
    EscalationTarget,
    NextStep,
    OutOfScopeReason,
    SessionPeriod,
    SignpostOutcome,
    TriageCode,
)
from tests.metrics.journeys.model import (
    LONDON,
    PCNS,
    WINDOW,
    Appointment,
    Journey,
    Referral,
    Session,
)
from tests.support.factories import synthetic_nhs_number


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
    # Owned escalations and withdrawn referrals (issue 13) draw from their own generator, so the journeys
    # above are the same as before they existed.
    owned = random.Random(seed + 13)
    for j in journeys:
        _owned_escalations(owned, j)
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


def _owned_escalations(rng: random.Random, j: Journey) -> None:
    """Some escalations climb a rung unacknowledged, most are acknowledged, many resolved; a few open
    referrals are withdrawn."""
    for escalation_id, at, _reason, _target in j.escalations:
        roll = rng.random()
        if roll < 0.2:
            j.climbed[escalation_id] = (at + timedelta(hours=1), EscalationTarget.TRUST_DUTY_MANAGER)
            if rng.random() < 0.5:
                j.acknowledged[escalation_id] = at + timedelta(minutes=70)
        elif roll < 0.85:
            j.acknowledged[escalation_id] = at + timedelta(minutes=rng.randint(2, 240))
        if escalation_id in j.acknowledged and rng.random() < 0.7:
            resolved_at = j.acknowledged[escalation_id] + timedelta(minutes=rng.randint(5, 600))
            j.resolved[escalation_id] = (resolved_at, rng.choice(list(EscalationOutcome)))
    for r in j.referrals:
        if r.declined_at is None and r.completed_at is None and rng.random() < 0.15:
            r.withdrawn_at = r.made_at + timedelta(hours=6)


# --- the events a journey publishes ------------------------------------------------------------------
