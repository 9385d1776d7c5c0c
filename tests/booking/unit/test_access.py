"""Booking's access table, every role x every action, and its scope rules (whose appointment or list)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.booking.application.access import (
    POLICY,
    Action,
    practice_filter,
    sees_appointment,
    sees_practice,
    sees_session,
)
from services.booking.domain.appointment import Appointment
from services.booking.domain.rota import RotaSession
from shared.contracts.codes import AppointmentType, BookedBy, Modality, SessionPeriod
from shared.identity import OrganisationDirectory, OrgKind, Principal, Role
from tests.support.identity import DEMO_ORGANISATIONS

from ..conftest import HOME, NOW, OTHER, PCN, TODAY

M, L, S, Y, P, T, G, OPS = (
    Role.MHP,
    Role.CLINICAL_LEAD,
    Role.PRACTICE_STAFF,
    Role.PRACTICE_SYSTEM,
    Role.PCN_MANAGER,
    Role.TRUST_MANAGER,
    Role.IG_LEAD,
    Role.OPERATOR,
)

ALLOWED: dict[Action, set[Role]] = {
    Action.LOAD_ROTA: {P},
    Action.CANCEL_SESSION: {P},
    Action.SET_CAP: {P},
    Action.READ_SESSIONS: {P, M, S, Y, L},
    Action.COUNT_PRESCRIPTIONS: {P, M, S, Y, L},
    Action.SEARCH_SLOTS: {M, P, S, Y},
    Action.BOOK: {S, Y, M},
    Action.CANCEL_APPOINTMENT: {S, Y, M},
    Action.READ_APPOINTMENT: {M, S, Y, L},
    Action.READ_WAITLIST: {M, S, Y, L},
    Action.READ_ATTENDANCE_REVIEW: {M, S, Y, L},
    Action.READ_REFUSALS: {P, S},
}


def test_the_table_names_every_action() -> None:
    assert set(ALLOWED) == set(Action)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_take_exactly_its_actions(role: Role, action: Action) -> None:
    assert POLICY.allows(role, action) is (role in ALLOWED[action])


@pytest.mark.parametrize("role", [T, G, OPS])
def test_trust_roles_and_the_operator_have_no_booking_route(role: Role) -> None:
    assert not any(POLICY.allows(role, action) for action in Action)


# The demo directory's tree: a principal sees a practice only through its own PCN.
TREE = OrganisationDirectory.load(DEMO_ORGANISATIONS).pcns


def principal(role: Role, org: str, kind: OrgKind, pcn: str | None) -> Principal:
    return Principal(
        user_id=f"{role}.user",
        name="",
        role=role,
        org_code=org,
        org_kind=kind,
        pcn_code=pcn,
        pcn_practices=TREE,
    )


MHP = principal(M, PCN, OrgKind.PCN, PCN)
OTHER_PCN_MHP = principal(M, "U00456", OrgKind.PCN, "U00456")
HOME_SYSTEM = principal(Y, HOME, OrgKind.PRACTICE, PCN)
OTHER_SYSTEM = principal(Y, OTHER, OrgKind.PRACTICE, PCN)
TRUST = Principal(
    "trust.manager", "", T, "RMH", OrgKind.TRUST, None, trust_pcns=frozenset({PCN}), pcn_practices=TREE
)


def appointment(slot_practice: str, home_practice: str) -> Appointment:
    return Appointment(
        appointment_id=uuid.uuid4(),
        correlation_id=uuid.uuid4(),
        call_id=uuid.uuid4(),
        pcn_code=PCN,
        practice_ods=slot_practice,
        home_practice_ods=home_practice,
        session_id=uuid.uuid4(),
        starts_at=NOW,
        ends_at=NOW + timedelta(minutes=30),
        minutes=30,
        modality=Modality.TELEPHONE,
        appointment_type=AppointmentType.INITIAL_ASSESSMENT,
        booked_by=BookedBy.MHP_SERVICE,
        created_at=NOW,
    )


@pytest.mark.parametrize(
    ("who", "slot_at", "patient_of", "sees"),
    [
        (MHP, HOME, HOME, True),
        (MHP, OTHER, HOME, True),
        (OTHER_PCN_MHP, HOME, HOME, False),
        (HOME_SYSTEM, HOME, HOME, True),
        (HOME_SYSTEM, OTHER, HOME, True),  # its patient, seen at another practice of the PCN
        (OTHER_SYSTEM, OTHER, HOME, False),  # hosting the slot does not make the patient its own
        (OTHER_SYSTEM, HOME, HOME, False),
    ],
)
def test_an_appointment_is_its_patients_practices_and_its_pcns(
    who: Principal, slot_at: str, patient_of: str, sees: bool
) -> None:
    assert sees_appointment(who, appointment(slot_at, patient_of)) is sees


def test_a_session_is_seen_by_its_pcn_and_its_practice() -> None:
    session = RotaSession(
        session_id=uuid.uuid4(),
        pcn_code=PCN,
        practice_ods=HOME,
        session_date=TODAY,
        period=SessionPeriod.AM,
        starts_at=NOW,
        ends_at=NOW,
        clinician="mhp.ahmed",
        modalities=(Modality.TELEPHONE,),
    )
    assert [sees_session(p, session) for p in (MHP, OTHER_PCN_MHP, HOME_SYSTEM, OTHER_SYSTEM)] == [
        True,
        False,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("who", "pcn", "practice", "sees"),
    [
        (MHP, PCN, HOME, True),
        (MHP, "U00456", "Y04561", False),
        (MHP, None, "Y09999", False),  # a practice in no PCN of the directory
        (HOME_SYSTEM, PCN, HOME, True),
        (HOME_SYSTEM, PCN, OTHER, False),
        (TRUST, PCN, HOME, True),
    ],
)
def test_a_practice_is_seen_by_its_own_roles_and_its_pcns(
    who: Principal, pcn: str | None, practice: str, sees: bool
) -> None:
    assert sees_practice(who, pcn, practice) is sees


def test_a_practice_role_lists_its_own_practice_only() -> None:
    assert practice_filter(HOME_SYSTEM, None) == HOME
    assert practice_filter(HOME_SYSTEM, HOME) == HOME
    with pytest.raises(LookupError):
        practice_filter(HOME_SYSTEM, OTHER)
    assert practice_filter(MHP, None) is None
    assert practice_filter(MHP, OTHER) == OTHER
