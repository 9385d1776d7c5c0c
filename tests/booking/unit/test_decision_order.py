"""Re-triage applied in order: every delivery order of three decisions ends with the newest one's effect."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import pytest

from services.booking.application.context import BookingContext
from services.booking.application.handlers.triage import book_from_triage
from services.booking.application.unit_of_work import DecisionRaced
from services.booking.domain.appointment import Appointment
from services.booking.domain.decisions import TriageDecision
from shared.contracts.codes import Disposition, TriageCode
from shared.contracts.decision_order import Ordering, order_against
from shared.contracts.v1 import CallTriaged, CallTriagedData

from ..conftest import NOW, TODAY
from .conftest import book_from, plan, schedule
from .fakes import FakeBookingUnitOfWork

HOURS = {TriageCode.C: 24, TriageCode.D: 72, TriageCode.E: 24 * 28}


def decision(
    call_id: uuid.UUID, code: TriageCode, sequence: int | None, previous: CallTriaged | None, minutes: int = 0
) -> CallTriaged:
    """A decision on the call, made `minutes` after NOW; A escalates, C/D/E ask for an appointment."""
    escalate = code is TriageCode.A
    event = CallTriaged.create(
        CallTriagedData(
            call_id=call_id,
            triage_code=code,
            disposition=Disposition.ESCALATE if escalate else Disposition.APPOINTMENT,
            respond_by=None if escalate else NOW + timedelta(hours=HOURS[code]),
            appointment_minutes=None if escalate else 30,
            supersedes=previous.event_id if previous else None,
            decision_sequence=sequence,
            clinician="mhp-1",
        ),
        producer="RMH/triage",
        pcn_code="U00123",
        practice_ods="Y01234",
        correlation_id=previous.correlation_id if previous else uuid.uuid4(),
    )
    return event.model_copy(update={"occurred_at": NOW + timedelta(minutes=minutes)})


def chain(codes: list[TriageCode], *, sequenced: bool = True) -> list[CallTriaged]:
    call_id, made = uuid.uuid4(), list[CallTriaged]()
    for i, code in enumerate(codes):
        made.append(decision(call_id, code, i + 1 if sequenced else None, made[-1] if made else None, i))
    return made


def live(uow: FakeBookingUnitOfWork) -> list[Appointment]:
    return [a for a in uow.appointments.rows.values() if a.is_booked]


@pytest.mark.parametrize("sequenced", [True, False], ids=["decision_sequence", "occurred_at"])
@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=str)
async def test_every_delivery_order_of_e_d_c_ends_with_one_booking_inside_cs_deadline(
    uow: FakeBookingUnitOfWork, ctx: BookingContext, order: tuple[int, ...], sequenced: bool
) -> None:
    await schedule(uow, ctx, *(plan(day=TODAY + timedelta(days=d)) for d in range(0, 28, 3)))
    decisions = chain([TriageCode.E, TriageCode.D, TriageCode.C], sequenced=sequenced)
    for i in order:
        await book_from_triage(book_from(decisions[i]), uow, ctx)
    [booked] = live(uow)
    assert booked.respond_by == decisions[2].data.respond_by
    assert booked.starts_at < NOW + timedelta(hours=24)
    assert uow.decisions.applied[decisions[2].data.call_id].event_id == decisions[2].event_id
    ignored = {i.decision.event_id for i in uow.decisions.ignored}
    # Each decision that arrived after a newer one was applied is recorded as ignored, as older.
    overtaken = {i for n, i in enumerate(order) if any(j > i for j in order[:n])}
    assert ignored == {decisions[i].event_id for i in overtaken}
    assert {i.ordering for i in uow.decisions.ignored} <= {Ordering.OLDER}


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=str)
async def test_every_delivery_order_of_c_d_a_ends_with_no_booking_and_no_waiting_entry(
    uow: FakeBookingUnitOfWork, ctx: BookingContext, order: tuple[int, ...]
) -> None:
    await schedule(uow, ctx, plan())
    decisions = chain([TriageCode.C, TriageCode.D, TriageCode.A])
    for i in order:
        await book_from_triage(book_from(decisions[i]), uow, ctx)
    assert live(uow) == []
    assert uow.waitlist.waiting() == []


async def test_c_then_a_delivered_a_first_books_nothing_and_records_c_as_ignored(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan())
    c, a = chain([TriageCode.C, TriageCode.A])
    assert await book_from_triage(book_from(a), uow, ctx) is None
    assert await book_from_triage(book_from(c), uow, ctx) is None
    assert uow.appointments.rows == {}
    assert uow.waitlist.rows == {}
    assert uow.events == []  # triage escalates A itself: booking adds nothing
    [ignored] = uow.decisions.ignored
    assert (ignored.decision.event_id, ignored.applied.event_id, ignored.ordering) == (
        c.event_id,
        a.event_id,
        Ordering.OLDER,
    )


async def test_a_re_triage_to_a_cancels_the_live_booking(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    await schedule(uow, ctx, plan())
    c, a = chain([TriageCode.C, TriageCode.A])
    assert isinstance(await book_from_triage(book_from(c), uow, ctx), Appointment)
    await book_from_triage(book_from(a), uow, ctx)
    assert live(uow) == []
    assert [e.event_type for e in uow.events].count("appointment.cancelled") == 1


def test_a_decision_without_sequence_superseding_nothing_is_the_first() -> None:
    call_id = uuid.uuid4()
    first = TriageDecision.of(
        event_id=uuid.uuid4(),
        call_id=call_id,
        decision_sequence=None,
        supersedes=None,
        decided_at=NOW,
        triage_code=TriageCode.D,
    )
    resent = TriageDecision.of(
        event_id=uuid.uuid4(),
        call_id=call_id,
        decision_sequence=None,
        supersedes=None,
        decided_at=NOW + timedelta(minutes=5),
        triage_code=TriageCode.D,
    )
    assert first.sequence == 1
    assert order_against(resent, first) is Ordering.REPEAT  # the first decision sent again
    assert order_against(first, None) is Ordering.NEWER


async def test_a_decision_applied_meanwhile_by_another_unit_of_work_fails_this_one(
    uow: FakeBookingUnitOfWork, ctx: BookingContext
) -> None:
    e, d = chain([TriageCode.E, TriageCode.D])
    uow.decisions.raced_by = TriageDecision(d.event_id, d.data.call_id, 2, d.occurred_at, TriageCode.D)
    with pytest.raises(DecisionRaced):  # NotYet: retried, then ordered against the one applied
        await book_from_triage(book_from(e), uow, ctx)
