"""Risk carried to follow-up: a missed appointment is followed up by the case's triage code (unit, fakes)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.referrals.application.commands import ActOnTriageDecision, Cause, OpenDnaFollowUp
from services.referrals.application.context import ReferralsContext
from services.referrals.application.handlers.follow_ups import open_dna_follow_up
from services.referrals.application.handlers.referrals import act_on_triage_decision
from services.referrals.domain.episode import Episode
from services.referrals.domain.follow_up_urgency import FollowUpPolicy, FollowUpUrgency
from services.referrals.settings import ReferralsSettings
from shared.contracts.codes import (
    AttendanceStatus,
    Disposition,
    EscalationReason,
    EscalationTarget,
    TriageCode,
)
from shared.contracts.v1 import CaseEscalated
from tests.referrals.unit.fakes import LEAD, PCN, PRACTICE, FakeReferralsUnitOfWork
from tests.support.clock import MONDAY_10AM

POLICY = FollowUpPolicy()
MONDAY_1830 = MONDAY_10AM.replace(hour=18, minute=30)


def test_a_high_risk_miss_is_due_by_the_close_of_the_same_working_day() -> None:
    assert POLICY.urgency(TriageCode.C) is FollowUpUrgency.SAME_DAY
    assert POLICY.due(TriageCode.C, MONDAY_10AM) == MONDAY_1830


def test_a_high_risk_miss_late_in_the_day_gets_two_working_hours_into_the_next_morning() -> None:
    quarter_to_six = MONDAY_10AM.replace(hour=17, minute=45)
    # 45 minutes left on Monday, then 75 from Tuesday's 08:00 opening.
    assert POLICY.due(TriageCode.C, quarter_to_six) == datetime(2026, 11, 17, 9, 15, tzinfo=UTC)


def test_a_high_risk_miss_heard_of_out_of_hours_is_due_by_the_close_of_the_next_working_day() -> None:
    saturday = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
    friday_night = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
    next_monday_close = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)
    assert POLICY.due(TriageCode.C, saturday) == next_monday_close
    assert POLICY.due(TriageCode.C, friday_night) == next_monday_close


def test_a_moderate_risk_miss_is_due_the_next_working_day_and_a_routine_one_in_two() -> None:
    assert POLICY.due(TriageCode.D, MONDAY_10AM) == MONDAY_10AM + timedelta(days=1)
    friday = MONDAY_10AM + timedelta(days=4)
    assert POLICY.due(TriageCode.D, friday) == friday + timedelta(days=3)  # Monday
    assert POLICY.due(TriageCode.E, MONDAY_10AM) == MONDAY_10AM + timedelta(days=2)
    assert POLICY.due(None, MONDAY_10AM) == MONDAY_10AM + timedelta(days=2)  # never triaged here
    assert not POLICY.tells_clinical_lead_at_first_miss(TriageCode.D)
    assert POLICY.tells_clinical_lead_at_first_miss(TriageCode.C)


def test_the_risk_rule_is_configured_from_referrals_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFERRALS_DNA_SAME_DAY_CODES", '["C", "D"]')
    monkeypatch.setenv("REFERRALS_DNA_NEXT_DAY_CODES", '["E"]')
    monkeypatch.setenv("REFERRALS_DNA_SAME_DAY_MIN_WORKING_MINUTES", "0")
    monkeypatch.setenv("REFERRALS_WORKING_HOURS_CLOSES", "17:00")
    policy = ReferralsSettings(bank_holidays_file=None).follow_up_policy()
    assert policy.due(TriageCode.D, MONDAY_10AM) == MONDAY_10AM.replace(hour=17)
    assert policy.due(TriageCode.E, MONDAY_10AM) == MONDAY_10AM + timedelta(days=1)
    monkeypatch.setenv("REFERRALS_DNA_NEXT_DAY_CODES", '["C"]')
    with pytest.raises(ValueError, match="either same-day or next-day"):
        ReferralsSettings(bank_holidays_file=None)


class Case:
    def __init__(self) -> None:
        self.episode = Episode(PCN, PRACTICE, uuid.uuid4())

    async def triaged(self, code: TriageCode, uow: FakeReferralsUnitOfWork, ctx: ReferralsContext) -> None:
        command = ActOnTriageDecision(
            uuid.uuid4(),
            Disposition.URGENT_APPOINTMENT if code is TriageCode.C else Disposition.APPOINTMENT,
            None,
            None,
            Cause(uuid.uuid4(), self.episode),
            triage_code=code,
            decision_sequence=1,
        )
        await act_on_triage_decision(command, uow, ctx)

    def missed(self, attendance: AttendanceStatus = AttendanceStatus.DID_NOT_ATTEND) -> OpenDnaFollowUp:
        return OpenDnaFollowUp(uuid.uuid4(), attendance, MONDAY_10AM, Cause(uuid.uuid4(), self.episode))


def escalations(uow: FakeReferralsUnitOfWork) -> list[tuple[EscalationTarget, EscalationReason]]:
    return [(e.data.target, e.data.reason) for e in uow.events_of(CaseEscalated)]


async def test_a_c_coded_dna_is_due_the_same_day_and_the_clinical_lead_is_told_at_the_first(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    case = Case()
    await case.triaged(TriageCode.C, uow, ctx)
    first = case.missed()
    follow_up = await open_dna_follow_up(first, uow, ctx)
    assert follow_up is not None
    assert (follow_up.due_at, follow_up.triage_code) == (MONDAY_1830, TriageCode.C)
    [notice] = uow.events_of(CaseEscalated)
    assert (notice.data.target, notice.data.reason) == (
        EscalationTarget.PRACTICE_CLINICAL_LEAD,
        EscalationReason.RISK,
    )
    assert notice.data.assigned_to == LEAD
    assert notice.data.appointment_id == first.appointment_id
    assert notice.data.due_at == MONDAY_1830
    assert notice.causation_id == first.cause.event_id
    # A second DNA: the lead already knows; the GP is told of the repeat, as for every case.
    await open_dna_follow_up(case.missed(), uow, ctx)
    assert escalations(uow) == [
        (EscalationTarget.PRACTICE_CLINICAL_LEAD, EscalationReason.RISK),
        (EscalationTarget.GP, EscalationReason.REPEATED_DNA),
    ]


async def test_a_routine_case_tells_nobody_at_the_first_dna_and_the_gp_at_the_second(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    case = Case()
    await case.triaged(TriageCode.E, uow, ctx)
    follow_up = await open_dna_follow_up(case.missed(), uow, ctx)
    assert follow_up is not None
    assert follow_up.due_at == MONDAY_10AM + timedelta(days=2)
    assert escalations(uow) == []
    await open_dna_follow_up(case.missed(), uow, ctx)
    assert escalations(uow) == [(EscalationTarget.GP, EscalationReason.REPEATED_DNA)]


async def test_a_d_coded_dna_is_due_the_next_working_day(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    case = Case()
    await case.triaged(TriageCode.D, uow, ctx)
    follow_up = await open_dna_follow_up(case.missed(), uow, ctx)
    assert follow_up is not None
    assert follow_up.due_at == MONDAY_10AM + timedelta(days=1)
    assert escalations(uow) == []


async def test_the_most_urgent_current_code_of_the_episode_sets_the_follow_up(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    case = Case()
    await case.triaged(TriageCode.E, uow, ctx)
    await case.triaged(TriageCode.C, uow, ctx)  # a second call in the episode, triaged higher
    follow_up = await open_dna_follow_up(case.missed(), uow, ctx)
    assert follow_up is not None
    assert follow_up.due_at == MONDAY_1830


async def test_a_patients_cancellation_opens_one_follow_up_by_risk_and_counts_as_no_dna(
    uow: FakeReferralsUnitOfWork, ctx: ReferralsContext
) -> None:
    case = Case()
    await case.triaged(TriageCode.C, uow, ctx)
    cancelled = case.missed(AttendanceStatus.CANCELLED_BY_PATIENT)
    follow_up = await open_dna_follow_up(cancelled, uow, ctx)
    assert follow_up is not None
    assert (follow_up.attendance, follow_up.due_at) == (AttendanceStatus.CANCELLED_BY_PATIENT, MONDAY_1830)
    resent = OpenDnaFollowUp(**{**vars(cancelled), "cause": Cause(uuid.uuid4(), case.episode)})
    assert await open_dna_follow_up(resent, uow, ctx) is None
    assert len(uow.follow_ups.rows) == 1
    assert uow.dna_episodes.rows[case.episode.correlation_id].dna_count == 0
    # The clinical lead was told at this first miss; a later DNA is then the episode's first DNA.
    assert escalations(uow) == [(EscalationTarget.PRACTICE_CLINICAL_LEAD, EscalationReason.RISK)]
    await open_dna_follow_up(case.missed(), uow, ctx)
    assert len(escalations(uow)) == 1
