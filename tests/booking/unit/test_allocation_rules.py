"""Slot allocation: earliest fit, practice or PCN, modality, deadline, 60 minutes, held urgent slots."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from services.booking.domain.allocation import (
    HeldSlots,
    SlotQuery,
    appointment_modality,
    first_fit,
    home_then_pcn,
)
from services.booking.domain.rota import RotaSession, Slot, SlotKind, SlotStatus
from services.booking.domain.urgency import CLINICAL_SLOTS_PER_SESSION, UrgentCapacityPolicy
from shared.contracts.codes import Modality, SessionPeriod
from shared.working_time import LONDON

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


# Booking by risk: the first slots of each session are held for urgent cases until the session is near.
SESSION_START = datetime.combine(TODAY + timedelta(days=3), time(9), tzinfo=LONDON).astimezone(UTC)


def held(per_session: int = 2, *, hold: timedelta = timedelta(hours=24), now: datetime = NOW) -> HeldSlots:
    return HeldSlots(per_session, now + hold)


def test_a_routine_case_skips_the_held_first_slots_of_a_session_not_yet_released() -> None:
    slots = slots_of(plan(day=TODAY + timedelta(days=3)))
    [urgent] = first_fit(slots, query()) or []
    [routine] = first_fit(slots, query(held=held())) or []
    assert (urgent.seq, routine.seq) == (0, 2)


def test_held_slots_are_released_to_routine_cases_hold_before_the_session_starts() -> None:
    slots = slots_of(plan(day=TODAY + timedelta(days=3)))
    just_before = SESSION_START - timedelta(hours=24, minutes=1)
    [still_held] = first_fit(slots, query(held=held(now=just_before))) or []
    [released] = first_fit(slots, query(held=held(now=SESSION_START - timedelta(hours=24)))) or []
    assert (still_held.seq, released.seq) == (2, 0)  # the whole session is released at once, seq 1 too
    assert all(held(now=SESSION_START - timedelta(hours=24)).allows(s) for s in slots)


def test_a_routine_sixty_minute_case_cannot_pair_a_free_slot_with_a_held_one() -> None:
    slots = slots_of(plan(day=TODAY + timedelta(days=3)))
    slots[0].status = SlotStatus.BOOKED  # seq 1 (held) and seq 2 (free) are adjacent
    pair = first_fit(slots, query(minutes=60, held=held())) or []
    assert [s.seq for s in pair] == [2, 3]
    assert [s.seq for s in first_fit(slots, query(minutes=60)) or []] == [1, 2]  # an urgent case may


def test_the_held_share_rounds_to_whole_slots_and_none_is_held_at_share_zero() -> None:
    assert CLINICAL_SLOTS_PER_SESSION == 6
    assert [UrgentCapacityPolicy(share=s).held_per_session for s in (0, 0.1, 0.4, 0.5, 1)] == [0, 1, 2, 3, 6]
    assert UrgentCapacityPolicy(share=0).held_for_routine(NOW) is None
    assert UrgentCapacityPolicy(share=0.4, hold=timedelta(hours=6)).held_for_routine(NOW) == HeldSlots(
        2, NOW + timedelta(hours=6)
    )


def test_release_bounds_say_the_same_as_allows_for_every_held_position() -> None:
    rule = held(3)
    for slot in slots_of(plan(day=TODAY + timedelta(days=1)), plan(day=TODAY + timedelta(days=2))):
        bounds = dict(rule.release_bounds())
        by_bounds = slot.seq >= rule.per_session or slot.starts_at <= bounds[slot.seq]
        assert by_bounds == rule.allows(slot)
