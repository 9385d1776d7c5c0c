"""Every case kept in order, on a real broker and database with a fake clock: re-triage applied in decision
order (a replaced referral withdrawn on the bus), risk carried to follow-up, a patient's cancellation
followed up."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from services.referrals.adapters.case_tables import IgnoredDecision
from services.referrals.adapters.tables import DnaFollowUp, Referral
from services.referrals.bootstrap import ReferralsHost
from shared.contracts.codes import CancelledBy, Destination, Disposition, TriageCode
from shared.contracts.routing import binding_key
from shared.contracts.v1 import (
    AppointmentCancelled,
    AppointmentCancelledData,
    CallTriaged,
    CallTriagedData,
)
from shared.messaging.inbox import InboxRecord
from tests.referrals.conftest import LEAD, PRACTICE, dna, envelope, events_of, wait_events
from tests.support.amqp import EventCapture, eventually, publish_event
from tests.support.clock import MONDAY_10AM

pytestmark = pytest.mark.integration

CMHT = Destination.COMMUNITY_MENTAL_HEALTH_TEAM
TT = Destination.TALKING_THERAPIES


def decision(
    call_id: uuid.UUID,
    episode: uuid.UUID,
    sequence: int,
    disposition: Disposition,
    *,
    code: TriageCode = TriageCode.F,
    destination: Destination | None = None,
) -> CallTriaged:
    appointment = disposition in (Disposition.APPOINTMENT, Disposition.URGENT_APPOINTMENT)
    return CallTriaged.create(
        CallTriagedData(
            call_id=call_id,
            triage_code=code,
            disposition=disposition,
            respond_by=MONDAY_10AM + timedelta(hours=24 if code is TriageCode.C else 72)
            if appointment
            else None,
            appointment_minutes=30 if appointment else None,
            destination=destination,
            supersedes=None if sequence == 1 else uuid.uuid4(),
            decision_sequence=sequence,
            clinician="mhp.1",
        ),
        producer="RMH/triage",
        **envelope(correlation_id=episode, occurred_at=MONDAY_10AM + timedelta(minutes=sequence)),
    )


def cancelled(
    episode: uuid.UUID, by: CancelledBy, appointment_id: uuid.UUID | None = None
) -> AppointmentCancelled:
    return AppointmentCancelled.create(
        AppointmentCancelledData(appointment_id=appointment_id or uuid.uuid4(), cancelled_by=by),
        producer=f"{PRACTICE}/clinical-system",
        **envelope(correlation_id=episode),
    )


async def _rows(host: ReferralsHost, table: Any) -> list[Any]:
    async with host.db.read() as session:
        return list((await session.exec(select(table))).all())


async def _processed(host: ReferralsHost, *events: Any) -> None:
    """Wait until the service's inbox holds every one of these events (each applied, or found a no-op)."""
    wanted = {e.event_id for e in events}

    async def done() -> bool:
        return wanted <= {r.event_id for r in await _rows(host, InboxRecord)}

    await eventually(done, message="events not processed")


async def test_a_c_coded_dna_is_due_the_same_working_day_and_the_clinical_lead_is_told_at_once(
    referrals: ReferralsHost, amqp_url: str
) -> None:
    episode = uuid.uuid4()
    async with EventCapture(amqp_url, binding_key("case.escalated")) as capture:
        triaged = decision(uuid.uuid4(), episode, 1, Disposition.URGENT_APPOINTMENT, code=TriageCode.C)
        await publish_event(amqp_url, triaged)
        await _processed(referrals, triaged)
        missed = dna(correlation_id=episode)
        await publish_event(amqp_url, missed)
        [notice] = await wait_events(capture, "case.escalated", 1, reason="risk")
    [follow_up] = await _rows(referrals, DnaFollowUp)
    assert follow_up.due_at == MONDAY_10AM.replace(hour=18, minute=30)  # Monday's close
    assert follow_up.triage_code == "C"
    assert notice["data"]["target"] == "practice_clinical_lead"
    assert notice["data"]["assigned_to"] == LEAD
    assert notice["data"]["appointment_id"] == str(missed.data.appointment_id)
    assert notice["causation_id"] == str(missed.event_id)


async def test_a_patients_cancellation_opens_one_follow_up_and_a_providers_opens_none(
    referrals: ReferralsHost, amqp_url: str
) -> None:
    episode = uuid.uuid4()
    triaged = decision(uuid.uuid4(), episode, 1, Disposition.APPOINTMENT, code=TriageCode.D)
    await publish_event(amqp_url, triaged)
    await _processed(referrals, triaged)  # the episode's code is known before the cancellation
    by_patient = cancelled(episode, CancelledBy.PATIENT)
    resent = by_patient.model_copy(update={"event_id": uuid.uuid4()})
    by_provider = cancelled(episode, CancelledBy.PROVIDER)  # booking's to rebook, not ours
    for event in (by_patient, resent, by_provider):
        await publish_event(amqp_url, event)
    await _processed(referrals, by_patient, resent, by_provider)
    [follow_up] = await _rows(referrals, DnaFollowUp)
    assert follow_up.appointment_id == by_patient.data.appointment_id
    assert follow_up.attendance == "cancelled_by_patient"
    assert follow_up.status == "open"
    assert follow_up.due_at == MONDAY_10AM + timedelta(days=1)  # D: the next working day


async def test_retriage_withdraws_the_replaced_referral_and_out_of_order_decisions_end_with_the_newest(
    referrals: ReferralsHost, amqp_url: str
) -> None:
    in_order, out_of_order = uuid.uuid4(), uuid.uuid4()
    episode = uuid.uuid4()
    patterns = (binding_key("referral.made"), binding_key("referral.withdrawn"))
    async with EventCapture(amqp_url, *patterns) as capture:
        # Refer, then re-triaged to an appointment: the receiving service is told to stop.
        await publish_event(amqp_url, decision(in_order, episode, 1, Disposition.REFER, destination=CMHT))
        [made] = await wait_events(capture, "referral.made", 1, call_id=in_order)
        await publish_event(
            amqp_url, decision(in_order, episode, 2, Disposition.APPOINTMENT, code=TriageCode.D)
        )
        [withdrawn] = await wait_events(capture, "referral.withdrawn", 1, call_id=in_order)
        assert withdrawn["data"]["referral_id"] == made["data"]["referral_id"]
        assert withdrawn["data"]["reason"] == "retriaged"

        # Refer CMHT -> appointment -> refer TT, delivered 1, 3, 2.
        one, two, three = (
            decision(out_of_order, episode, 1, Disposition.REFER, destination=CMHT),
            decision(out_of_order, episode, 2, Disposition.APPOINTMENT, code=TriageCode.D),
            decision(out_of_order, episode, 3, Disposition.REFER, destination=TT),
        )
        await publish_event(amqp_url, one)
        await wait_events(capture, "referral.made", 1, call_id=out_of_order)
        await publish_event(amqp_url, three)
        await wait_events(capture, "referral.made", 2, call_id=out_of_order)
        await publish_event(amqp_url, two)

        async def ignored() -> bool:
            return any(i.event_id == two.event_id for i in await _rows(referrals, IgnoredDecision))

        await eventually(ignored, message="decision 2 was not recorded as ignored")
        await referrals.relay.run_once()
    [record] = [i for i in await _rows(referrals, IgnoredDecision) if i.call_id == out_of_order]
    assert (record.ordering, record.decision_sequence, record.applied_sequence) == ("older", 2, 3)
    assert record.applied_event_id == three.event_id
    referrals_of_call = [r for r in await _rows(referrals, Referral) if r.call_id == out_of_order]
    assert {(r.destination, r.status) for r in referrals_of_call} == {
        (CMHT.value, "withdrawn"),
        (TT.value, "made"),
    }
    assert len(events_of(capture, "referral.withdrawn", call_id=out_of_order)) == 1
    assert len(events_of(capture, "referral.made", call_id=out_of_order)) == 2
