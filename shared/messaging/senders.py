"""Who may publish what: the broker users of the platform and the event types each may send.

One table serves three places: `mhp.definitions` turns it into RabbitMQ topic permissions (the broker
refuses anything else), every publisher stamps its AMQP `user_id` (which RabbitMQ validates against the
connection's login), and every consumer checks that `user_id` against the envelope before applying it.
A message that passed the broker but whose body claims another sender is dead-lettered, never applied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from shared.contracts.envelope import Envelope
from shared.contracts.registry import ContractError
from shared.identity.directory import OrganisationDirectory
from shared.settings import ServiceSettings


class SenderKind(StrEnum):
    SERVICE = "service"
    """One of the trust's services (`mhp-triage`), or a booking deployment confined to one PCN."""
    PRACTICE = "practice"
    """One GP practice's systems (reception, telephony, the clinical system): `practice-y01234`."""
    PCN = "pcn"
    """A PCN-wide system acting for any practice of its PCN (a hub's telephony): `pcn-u00123`."""
    PARTNER = "partner"
    """A receiving service answering referrals (crisis team, talking therapies): `partner-rxy`."""


PLATFORM_SERVICES = frozenset({"triage", "booking", "referrals", "metrics"})
"""The services' names: the system part of their producers, which no other sender may use."""
PRACTICE_SYSTEMS = "practice systems"
RECEIVING_SERVICES = "receiving services"

PUBLISHED_BY: Mapping[str, frozenset[str]] = {
    "call.received": frozenset({PRACTICE_SYSTEMS}),
    "call.triaged": frozenset({"triage"}),
    "case.escalated": frozenset({"triage", "booking", "referrals"}),
    "escalation.acknowledged": frozenset({"referrals"}),
    "escalation.resolved": frozenset({"referrals"}),
    "session.scheduled": frozenset({"booking"}),
    "session.cancelled": frozenset({"booking"}),
    "appointment.booked": frozenset({"booking", PRACTICE_SYSTEMS}),
    "appointment.cancelled": frozenset({"booking", PRACTICE_SYSTEMS}),
    "appointment.waitlisted": frozenset({"booking"}),
    "appointment.attended": frozenset({PRACTICE_SYSTEMS}),
    "appointment.dna": frozenset({PRACTICE_SYSTEMS, "booking"}),
    "dna.followed_up": frozenset({"referrals"}),
    "referral.made": frozenset({"referrals"}),
    "referral.accepted": frozenset({"referrals", RECEIVING_SERVICES}),
    "referral.declined": frozenset({"referrals", RECEIVING_SERVICES}),
    "referral.completed": frozenset({"referrals", RECEIVING_SERVICES}),
    "referral.withdrawn": frozenset({"referrals"}),
    "signpost.recorded": frozenset({"referrals"}),
}
"""The event catalogue's publishers (BRIEF.md); its one referral row split: referrals makes a referral,
receiving services answer it."""

_PUBLISHER_OF_KIND = {
    SenderKind.PRACTICE: PRACTICE_SYSTEMS,
    SenderKind.PCN: PRACTICE_SYSTEMS,
    SenderKind.PARTNER: RECEIVING_SERVICES,
}

_SERVICE = r"[a-z][a-z0-9]{1,30}"
_USER = re.compile(
    rf"^(?:mhp-(?P<service>{_SERVICE})(?:-(?P<service_pcn>u\d{{5}}))?"
    r"|practice-(?P<practice>[a-z]\d{5})"
    r"|pcn-(?P<pcn>u\d{5})"
    r"|partner-(?P<partner>[a-z0-9]{3,8}))$"
)
ADMIN_USER = "mhp-admin"


def service_user(service: str, pcn_code: str | None = None) -> str:
    """`mhp-booking`, or `mhp-booking-u00123` for a deployment confined to one PCN's keys."""
    return f"mhp-{service}" + (f"-{pcn_code.lower()}" if pcn_code else "")


def practice_user(practice_ods: str) -> str:
    return f"practice-{practice_ods.lower()}"


def pcn_user(pcn_code: str) -> str:
    return f"pcn-{pcn_code.lower()}"


def partner_user(org_code: str) -> str:
    return f"partner-{org_code.lower()}"


@dataclass(frozen=True)
class Sender:
    """A broker user as the platform knows it; `org` is the code its events' `producer` must start with."""

    user: str
    kind: SenderKind
    service: str | None = None
    pcn_code: str | None = None
    """The one PCN this sender is confined to (a practice's PCN is pinned by its topic permission)."""
    org: str | None = None

    @property
    def publisher(self) -> str:
        """This sender's name in `PUBLISHED_BY`."""
        return self.service if self.service else _PUBLISHER_OF_KIND[self.kind]

    def may_publish(self, event_type: str) -> bool:
        return self.publisher in PUBLISHED_BY.get(event_type, frozenset())

    def event_types(self) -> tuple[str, ...]:
        return tuple(sorted(t for t, publishers in PUBLISHED_BY.items() if self.publisher in publishers))


def sender_of(user_id: str) -> Sender | None:
    """The sender a validated AMQP `user_id` names, or None for a user outside the platform's scheme."""
    if user_id == ADMIN_USER:
        return None  # the operator provisions the broker; it publishes no events
    match = _USER.fullmatch(user_id)
    if match is None:
        return None
    if service := match["service"]:
        pcn = match["service_pcn"]
        return Sender(user_id, SenderKind.SERVICE, service=service, pcn_code=pcn.upper() if pcn else None)
    if practice := match["practice"]:
        return Sender(user_id, SenderKind.PRACTICE, org=practice.upper())
    if pcn := match["pcn"]:
        return Sender(user_id, SenderKind.PCN, pcn_code=pcn.upper(), org=pcn.upper())
    return Sender(user_id, SenderKind.PARTNER, org=match["partner"].upper())


def user_for(event: Envelope[Any], trust_code: str) -> str:
    """The broker user whose messages `event` could pass the check as: read from its producer.

    For tools that replay or generate events under impersonation (tests, benchmarks); services and
    practice systems publish as their own login and never need it.
    """
    org, _, system = event.producer.partition("/")
    if org == trust_code:
        return service_user(system)
    if system == "booking" and org == event.pcn_code:
        return service_user("booking")
    if re.fullmatch(r"U\d{5}", org):
        return pcn_user(org)
    if re.fullmatch(r"[A-Z]\d{5}", org):
        return practice_user(org)
    return partner_user(org)


def publishes_from_ingress(user: str) -> bool:
    """Practice, PCN and partner systems publish into an ingress vhost of their own, never the trust's."""
    sender = sender_of(user)
    return sender is not None and sender.service is None


@dataclass(frozen=True)
class SenderCheck:
    """What a consumer proves of every message before applying it: the broker-validated sender sent it."""

    trust_code: str
    """The trust's organisation code: the producer of its own services' events is `<trust>/<service>`."""

    def check(self, user_id: str | None, event: Envelope[Any]) -> Sender:
        """The sender, or ContractError with a reason that holds no submitted value."""
        if not user_id:
            raise ContractError("no validated sender: the message has no AMQP user_id")
        sender = sender_of(user_id)
        if sender is None:
            raise ContractError("the AMQP user_id is not one of the platform's publishing users")
        if not sender.may_publish(event.event_type):
            raise ContractError(f"{sender.user} may not publish {event.event_type}")
        if sender.pcn_code is not None and event.pcn_code != sender.pcn_code:
            raise ContractError(f"{sender.user} may not publish for another PCN")
        if sender.kind is SenderKind.PARTNER and not self.is_partner_code(sender.org):
            raise ContractError(f"{sender.user} names an organisation that is not a receiving service")
        if event.producer != self.expected_producer(sender, event):
            raise ContractError(f"producer does not match the sender {sender.user}")
        if sender.kind is not SenderKind.SERVICE and event.producer.partition("/")[2] in PLATFORM_SERVICES:
            # Booking and referrals recognise their own events by producer: nobody else may take the name.
            raise ContractError(f"{sender.user} may not name a platform service as its system")
        if sender.kind is SenderKind.PRACTICE and event.practice_ods != sender.org:
            raise ContractError(f"{sender.user} may not publish for another practice")
        return sender

    def is_partner_code(self, org: str | None) -> bool:
        """Not the trust, nor shaped like a PCN or practice code (those have users of their own)."""
        return bool(org) and org != self.trust_code and not re.fullmatch(r"U\d{5}|[A-Z]\d{5}", org or "")

    def expected_producer(self, sender: Sender, event: Envelope[Any]) -> str:
        """The producer the sender's events must carry; a practice system names its system after the slash."""
        if sender.kind is SenderKind.SERVICE:
            # Booking is the PCN's: `<PCN>/booking`; the trust's own services are `<trust>/<service>`.
            org = event.pcn_code if sender.service == "booking" else self.trust_code
            return f"{org}/{sender.service}"
        system = event.producer.partition("/")[2]
        return f"{sender.org}/{system}"


def broker_user(settings: ServiceSettings, service: str) -> str:
    """Who a service publishes as: the setting; else its login when that is one of this service's users
    (`mhp-booking-u00123`); else `mhp-<service>` (a login of another name must then be an impersonator)."""
    if settings.broker_user:
        return settings.broker_user
    login = unquote(urlsplit(settings.rabbitmq_url).username or "")
    sender = sender_of(login)
    return login if sender is not None and sender.service == service else service_user(service)


def check_trust_code(trust_code: str, directory_file: Path | None) -> None:
    """Refuse to run with a trust code not the directory's: every trust event would be dead-lettered."""
    if directory_file is None:
        return
    trust = OrganisationDirectory.load(directory_file).trust_code
    if trust != trust_code:
        raise RuntimeError(f"MHP_TRUST_CODE is {trust_code}; the organisation directory's trust is {trust}")
