"""Who `mhp simulate` publishes as: the broker login it is given, or the users `mhp up` provisioned.

A PCN user's URL (`pcn-u00123`) publishes for the PCN's practices with producer `U00123/telephony`
(a hub's telephony system); a practice user's (`practice-y01234`) for that practice alone, as
`Y01234/reception`. Each stamps its own login as the AMQP `user_id` and declares nothing. Given a login
outside the platform's scheme (guest on an unprovisioned broker), `--as practice|pcn` says whose
`user_id` to stamp, which only a login tagged `impersonator` may do: senders are then not proven.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from mhp.demo import DEMO_PCN, DEMO_PRACTICES
from mhp.practice_feed import PracticeLogin, impersonated_logins, login_user
from mhp.provisioning import BrokerLogins
from shared.messaging.senders import SenderKind, pcn_user, practice_user, sender_of

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
PCN_SYSTEM = "telephony"
PRACTICE_SYSTEM = "reception"


class PublishAs(StrEnum):
    PRACTICE = "practice"
    """Each practice's own system, as its practice user."""
    PCN = "pcn"
    """The PCN's hub system, as the PCN user, for any of its practices."""


class SimulationError(ValueError):
    """The options do not fit the login (the message says why)."""


@dataclass(frozen=True)
class SimulationPlan:
    logins: dict[str, PracticeLogin]
    """Each practice's login and user_id, by ODS code."""
    pcn_code: str
    producer_org: str | None
    """`<PCN>` for a PCN user (its producer is `<PCN>/telephony`); None: each practice's own code."""
    system: str
    impersonating: bool
    """True when the login stamps others' user_ids (an unprovisioned broker): senders are not proven."""

    @property
    def senders(self) -> list[str]:
        return sorted({login.user_id for login in self.logins.values()})


def plan_simulation(
    *,
    amqp_url: str | None,
    publish_as: PublishAs | None,
    pcn: str | None,
    practices: Sequence[str] | None,
    provisioned: BrokerLogins | None,
) -> SimulationPlan:
    if amqp_url is None and provisioned is not None:
        return _provisioned(provisioned, publish_as or PublishAs.PRACTICE, pcn, practices)
    url = amqp_url or DEFAULT_AMQP_URL
    user = login_user(url)
    sender = sender_of(user)
    if sender is None:
        return _impersonated(url, publish_as or PublishAs.PRACTICE, pcn or DEMO_PCN, practices)
    if sender.kind is SenderKind.PCN:
        assert sender.org is not None
        if publish_as is PublishAs.PRACTICE:
            raise SimulationError(f"{user} is a PCN user: --as practice needs a practice user's URL")
        if pcn is not None and pcn != sender.org:
            raise SimulationError(f"{user} publishes for PCN {sender.org} only, not {pcn}")
        if practices is None and sender.org != DEMO_PCN:
            raise SimulationError(f"give --practices: the practices of PCN {sender.org}")
        chosen = list(practices or DEMO_PRACTICES)
        login = PracticeLogin(url, user)
        return SimulationPlan(dict.fromkeys(chosen, login), sender.org, sender.org, PCN_SYSTEM, False)
    if sender.kind is SenderKind.PRACTICE:
        assert sender.org is not None
        if publish_as is PublishAs.PCN:
            raise SimulationError(f"{user} is a practice user: --as pcn needs the PCN user's URL")
        if practices is not None and list(practices) != [sender.org]:
            raise SimulationError(f"{user} publishes for practice {sender.org} only")
        logins = {sender.org: PracticeLogin(url, user)}
        return SimulationPlan(logins, pcn or DEMO_PCN, None, PRACTICE_SYSTEM, False)
    raise SimulationError(f"{user} is not a practice system's user: calls come from practice or PCN users")


def _provisioned(
    logins: BrokerLogins, publish_as: PublishAs, pcn: str | None, practices: Sequence[str] | None
) -> SimulationPlan:
    """The users `mhp up` provisioned for the demo PCN, from its run directory."""
    pcn_code = pcn or DEMO_PCN
    chosen = list(practices or DEMO_PRACTICES)
    needed = [pcn_user(pcn_code)] if publish_as is PublishAs.PCN else [practice_user(o) for o in chosen]
    missing = [user for user in needed if user not in logins.passwords]
    if missing:
        raise SimulationError(f"`mhp up` provisioned no broker user {', '.join(missing)}")
    if publish_as is PublishAs.PCN:
        return SimulationPlan(logins.pcn_logins(pcn_code, chosen), pcn_code, pcn_code, PCN_SYSTEM, False)
    return SimulationPlan(logins.practice_logins(chosen), pcn_code, None, PRACTICE_SYSTEM, False)


def _impersonated(
    url: str, publish_as: PublishAs, pcn_code: str, practices: Sequence[str] | None
) -> SimulationPlan:
    chosen = list(practices or DEMO_PRACTICES)
    if publish_as is PublishAs.PCN:
        login = PracticeLogin(url, pcn_user(pcn_code))
        return SimulationPlan(dict.fromkeys(chosen, login), pcn_code, pcn_code, PCN_SYSTEM, True)
    return SimulationPlan(impersonated_logins(url, chosen), pcn_code, None, PRACTICE_SYSTEM, True)
