"""Who may do what in booking: the role table (403 when the role lacks it) and the scope rules (404).

PCN roles act for their PCN's practices, practice roles for their own practice only, trust roles make no
booking writes. An appointment belongs to the patient's practice (`home_practice_ods`): events about it
are routed by that practice and its clinical system records the outcome.
"""

from __future__ import annotations

from enum import StrEnum

from services.booking.domain.appointment import Appointment
from services.booking.domain.rota import RotaSession
from shared.identity.policy import AccessPolicy
from shared.identity.principal import Principal, Role


class Action(StrEnum):
    LOAD_ROTA = "load the MHP rota"
    CANCEL_SESSION = "cancel an MHP session"
    SET_CAP = "set a practice's direct-booking cap"
    READ_SESSIONS = "read the rota's sessions"
    COUNT_PRESCRIPTIONS = "count prescription slots"
    SEARCH_SLOTS = "search MHP slots"
    BOOK = "book an appointment"
    CANCEL_APPOINTMENT = "cancel an appointment"
    READ_APPOINTMENT = "read an appointment"
    READ_WAITLIST = "read the waitlist"
    READ_ATTENDANCE_REVIEW = "read the attendance review"
    READ_REFUSALS = "read the direct-booking refusals"


_PRACTICE = {Role.PRACTICE_STAFF, Role.PRACTICE_SYSTEM}

POLICY = AccessPolicy(
    {
        Action.LOAD_ROTA: {Role.PCN_MANAGER},
        Action.CANCEL_SESSION: {Role.PCN_MANAGER},
        Action.SET_CAP: {Role.PCN_MANAGER},
        Action.READ_SESSIONS: {Role.PCN_MANAGER, Role.MHP, Role.CLINICAL_LEAD, *_PRACTICE},
        Action.COUNT_PRESCRIPTIONS: {Role.PCN_MANAGER, Role.MHP, Role.CLINICAL_LEAD, *_PRACTICE},
        Action.SEARCH_SLOTS: {Role.PCN_MANAGER, Role.MHP, *_PRACTICE},
        Action.BOOK: {Role.MHP, *_PRACTICE},
        Action.CANCEL_APPOINTMENT: {Role.MHP, *_PRACTICE},
        Action.READ_APPOINTMENT: {Role.MHP, Role.CLINICAL_LEAD, *_PRACTICE},
        Action.READ_WAITLIST: {Role.MHP, Role.CLINICAL_LEAD, *_PRACTICE},
        Action.READ_ATTENDANCE_REVIEW: {Role.MHP, Role.CLINICAL_LEAD, *_PRACTICE},
        Action.READ_REFUSALS: {Role.PCN_MANAGER, Role.PRACTICE_STAFF},
    }
)


def sees_appointment(principal: Principal, appointment: Appointment) -> bool:
    """The patient's practice, and the PCN's roles; never the practice that only hosts the slot."""
    return principal.can_see(appointment.pcn_code, appointment.home_practice_ods)


def sees_session(principal: Principal, session: RotaSession) -> bool:
    return principal.can_see(session.pcn_code, session.practice_ods)


def sees_practice(principal: Principal, practice_pcn: str | None, practice_ods: str) -> bool:
    """A practice (in the PCN the directory puts it in; None: in no PCN of this trust)."""
    return practice_pcn is not None and principal.can_see(practice_pcn, practice_ods)


def practice_filter(principal: Principal, practice_ods: str | None) -> str | None:
    """The practice a list is confined to: a practice role's own (asked or not), else as asked.

    Raises LookupError when a practice role asks for another practice (answered 404).
    """
    own = principal.practice_ods
    if own is None:
        return practice_ods
    if practice_ods is not None and practice_ods != own:
        raise LookupError("another practice")
    return own
