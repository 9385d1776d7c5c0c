"""Slot allocation: earliest fit, practice or PCN, modality, deadline, two adjacent slots for 60 minutes."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.booking.domain.allocation import SlotQuery, appointment_modality, first_fit, home_then_pcn
from services.booking.domain.rota import RotaSession, Slot, SlotKind, SlotStatus
from shared.contracts.codes import Modality, SessionPeriod

from ..conftest import HOME, NOW, OTHER, PCN, TODAY
from .conftest import plan


def slots_of(*plans_: object) -> list[Slot]:
    slots: list[Slot] = []
    for p in plans_:
        session, _ = RotaSession.schedule(p, uuid.uuid4())  # type: ignore[arg-type]
        slots.extend(session.slots)
    return slots


def query(**overrides: object) -> SlotQuery:
    fields: dict[str, object] = {
        "pcn_code": PCN,
        "practice_ods": None,
        "modality": None,
        "minutes": 30,
        "not_before": NOW,
    }
    fields.update(overrides)
    return SlotQuery(**fields)  # type: ignore[arg-type]


def test_the_earliest_free_clinical_slot_wins_and_admin_slots_never_do() -> None:
    slots = slots_of(plan(HOME, period=SessionPeriod.PM), plan(OTHER))
    [found] = first_fit(reversed(slots), query()) or []
    assert (found.practice_ods, found.seq) == (OTHER, 0)
    for s in slots:
        if s.kind is SlotKind.CLINICAL:
            s.status = SlotStatus.BOOKED
    assert first_fit(slots, query()) is None  # only admin slots left


def test_a_practice_query_stays_at_the_practice_and_a_pcn_query_ranges_over_the_pcn() -> None:
    slots = slots_of(plan(OTHER), plan(HOME, period=SessionPeriod.PM))
    [home] = first_fit(slots, query(practice_ods=HOME)) or []
    assert home.practice_ods == HOME
    assert first_fit(slots, query(pcn_code="U99999")) is None


def test_home_practice_is_searched_before_the_rest_of_the_pcn() -> None:
    searches = home_then_pcn(query(), HOME)
    assert [q.practice_ods for q in searches] == [HOME, None]


def test_the_deadline_and_not_before_bound_the_start() -> None:
    slots = slots_of(plan())
    first = min(s.starts_at for s in slots)
    assert first_fit(slots, query(starts_before=first)) is None  # must start strictly before the deadline
    [later] = first_fit(slots, query(not_before=first + timedelta(minutes=1))) or []
    assert later.starts_at == first + timedelta(minutes=30)


def test_modality_is_matched_and_none_means_any() -> None:
    slots = slots_of(plan(modalities=(Modality.TELEPHONE, Modality.VIDEO)))
    [video] = first_fit(slots, query(modality=Modality.VIDEO)) or []
    assert (video.modality, video.seq) == (Modality.VIDEO, 1)
    [anything] = first_fit(slots, query()) or []
    assert anything.seq == 0


def test_sixty_minutes_take_two_adjacent_free_slots_of_one_session() -> None:
    slots = slots_of(plan())
    slots[1].status = SlotStatus.BOOKED  # breaks the pair (0, 1) and (1, 2)
    pair = first_fit(slots, query(minutes=60)) or []
    assert [s.seq for s in pair] == [2, 3]
    assert pair[0].session_id == pair[1].session_id


def test_the_last_clinical_slot_cannot_pair_with_the_admin_slot_or_another_session() -> None:
    slots = slots_of(plan(), plan(day=TODAY + timedelta(days=1)))
    for s in slots:
        if s.seq < 5:
            s.status = SlotStatus.BOOKED
    assert first_fit(slots, query(minutes=60)) is None


def test_an_appointment_takes_the_requested_modality_else_the_slots_else_the_fallback() -> None:
    [slot] = slots_of(plan(modalities=(Modality.VIDEO,)))[:1]
    assert appointment_modality(Modality.TELEPHONE, [slot]) is Modality.TELEPHONE
    assert appointment_modality(None, [slot]) is Modality.VIDEO
    slot.modality = None
    assert appointment_modality(None, [slot], Modality.FACE_TO_FACE) is Modality.FACE_TO_FACE
