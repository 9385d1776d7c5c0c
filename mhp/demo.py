"""A synthetic PCN feeding the platform: its practices publish calls, its MHP answers the triage worklist.

Practice systems publish through `mhp.practice_feed`, each as its own broker user (persistent,
confirmed, message_id = event_id), as a real practice system would; the MHP works through the triage
HTTP API. Patients are synthetic: NHS numbers in the 999 range that pass the Modulus 11 check, and
invented reasons.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx

from mhp.acting import SignedInAs
from mhp.idp.client import IdentityProviderError
from mhp.practice_feed import PracticeFeed, PracticeLogin, practice_outcome, report_outcomes
from shared.contracts.codes import CallerUrgency, Channel, TriageCode
from shared.contracts.envelope import PatientIdentity
from shared.contracts.v1 import CallReceived, CallReceivedData
from shared.db import utcnow
from shared.logging import get_logger

log = get_logger(__name__)

DEMO_PCN = "U00123"
DEMO_MHP = "mhp.ahmed"
DEMO_PCN_MANAGER = "manager.u00123"
DEMO_PRACTICES = ("Y01234", "Y01235", "Y01236", "Y01237", "Y01238", "Y01239")

REASONS = (
    "low mood and poor sleep for a month",
    "anxiety attacks at work, asking for help",
    "struggling after a bereavement",
    "feels unable to cope, stopped eating properly",
    "thoughts of self-harm last night",
    "took an overdose last year, low again",
    "hearing voices, family worried",
    "panic symptoms, cannot leave the house",
    "review of medication, side effects",
    "relationship breakdown, tearful and not sleeping",
)
CHANNEL_WEIGHTS = {
    Channel.TELEPHONE: 55,
    Channel.E_CONSULTATION: 25,
    Channel.GP_TASK: 12,
    Channel.WALK_IN: 4,
    Channel.DIRECT_BOOKING: 4,
}
# What a plausible MHP caseload of urgent requests looks like; A and B are rare.
TRIAGE_CODE_WEIGHTS = {
    TriageCode.A: 1,
    TriageCode.B: 3,
    TriageCode.C: 14,
    TriageCode.D: 30,
    TriageCode.E: 30,
    TriageCode.F: 14,
    TriageCode.G: 8,
}


def synthetic_nhs_number(rng: random.Random) -> str:
    """A 10-digit number in the 999 (never issued) range with a valid Modulus 11 check digit."""
    while True:
        digits = [9, 9, 9] + [rng.randrange(10) for _ in range(6)]
        total = sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True))
        check = (11 - total % 11) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def synthetic_call(
    rng: random.Random,
    *,
    pcn_code: str = DEMO_PCN,
    practices: Sequence[str] = DEMO_PRACTICES,
    producer_org: str | None = None,
    system: str = "reception",
) -> CallReceived:
    """A call from one of `practices`; its producer is `<practice>/<system>` unless `producer_org` (a PCN's
    hub system publishes as `<PCN>/<system>` for any of its practices)."""
    practice = rng.choice(list(practices))
    today = utcnow().date()
    # Mostly working-age adults, with some under 18 and over 65 to exercise the scope rules.
    age = rng.choice([16, 17, *range(18, 66), *range(18, 66), 66, 70, 78])
    born = today - timedelta(days=age * 365 + rng.randrange(1, 360))
    channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
    return CallReceived.create(
        CallReceivedData(
            call_id=uuid.uuid4(),
            channel=channel,
            patient=PatientIdentity(
                nhs_number=synthetic_nhs_number(rng), date_of_birth=date(born.year, born.month, born.day)
            ),
            reason=rng.choice(REASONS),
            caller_urgency=rng.choice(list(CallerUrgency)),
        ),
        producer=f"{producer_org or practice}/{system}",
        pcn_code=pcn_code,
        practice_ods=practice,
        correlation_id=uuid.uuid4(),
    )


async def publish_calls(
    logins: Mapping[str, PracticeLogin],
    *,
    count: int,
    rate: float,
    pcn_code: str = DEMO_PCN,
    producer_org: str | None = None,
    system: str = "reception",
    seed: int | None = None,
) -> int:
    """Publish `count` synthetic calls from the practices of `logins` at about `rate` per second (0 = as
    fast as confirms allow), each through its practice's login."""
    rng = random.Random(seed)
    practices = list(logins)
    async with PracticeFeed(logins) as feed:
        for _ in range(count):
            call = synthetic_call(
                rng, pcn_code=pcn_code, practices=practices, producer_org=producer_org, system=system
            )
            await feed.publish(call)
            if rate > 0:
                await asyncio.sleep(1 / rate)
    return count


def demo_rota(
    start: date, *, weeks: int = 4, pcn_code: str = DEMO_PCN, practices: Sequence[str] = DEMO_PRACTICES
) -> list[dict[str, object]]:
    """The demo PCN's rota: two MHPs, three practices each; a practice gets a morning and an afternoon a week.

    Practice i has its morning on weekday i mod 5 and its afternoon on weekday (i + 2) mod 5, so neither
    MHP is ever booked at two practices in one half-day.
    """
    monday = start - timedelta(days=start.weekday())
    sessions: list[dict[str, object]] = []
    for week in range(weeks + 1):
        for index, practice in enumerate(practices):
            for period, weekday, modalities, room in (
                ("am", index % 5, ["telephone", "face_to_face"], "Room 2"),
                ("pm", (index + 2) % 5, ["telephone", "video"], None),
            ):
                day = monday + timedelta(weeks=week, days=weekday)
                if not start <= day < start + timedelta(weeks=weeks):
                    continue
                sessions.append(
                    {
                        "pcn_code": pcn_code,
                        "practice_ods": practice,
                        "session_date": day.isoformat(),
                        "period": period,
                        "clinician": f"mhp.demo{index // 3 + 1}",
                        "modalities": modalities,
                        "room": room,
                    }
                )
    return sessions


async def load_demo_rota(booking_url: str, issuer: str, *, weeks: int = 4) -> int:
    """Post the demo rota to the booking service, signed in as the PCN manager; safe to repeat."""
    async with httpx.AsyncClient(timeout=60, auth=SignedInAs(issuer, DEMO_PCN_MANAGER)) as client:
        response = await client.post(
            f"{booking_url}/rota", json={"sessions": demo_rota(utcnow().date(), weeks=weeks)}
        )
        response.raise_for_status()
        created: int = response.json()["created"]
        return created


@dataclass
class DemoMhp:
    """The PCN's MHP: takes the most urgent call off the triage worklist and records a decision.

    Who decided is the signed-in user (the services take it from the token), never a body field.
    """

    triage_url: str
    pcn_code: str = DEMO_PCN
    rng: random.Random = field(default_factory=random.Random)

    def decision(self) -> dict[str, object]:
        code = self.rng.choices(list(TRIAGE_CODE_WEIGHTS), weights=list(TRIAGE_CODE_WEIGHTS.values()))[0]
        return {
            "triage_code": code.value,
            "modality": self.rng.choice(["telephone", "video", "face_to_face"]),
            "complex_needs": self.rng.random() < 0.15,
        }

    async def work_once(self, client: httpx.AsyncClient, *, limit: int = 5) -> int:
        response = await client.get(f"{self.triage_url}/worklist", params={"pcn": self.pcn_code})
        response.raise_for_status()
        decided = 0
        for entry in response.json()[:limit]:
            posted = await client.post(
                f"{self.triage_url}/calls/{entry['call_id']}/decision", json=self.decision()
            )
            if posted.status_code >= 400:
                log.warning("demo_decision_refused", status=posted.status_code)
                continue
            decided += 1
        return decided


async def run_demo(
    logins: Mapping[str, PracticeLogin],
    watch_url: str,
    triage_url: str,
    *,
    issuer: str,
    booking_url: str | None = None,
    calls_per_minute: float = 12.0,
    seed: int | None = None,
) -> None:
    """Feed the platform until cancelled: a rota, calls from the practices, decisions from the MHP.

    Each practice publishes its calls and outcomes through its own login (`logins`, by ODS code);
    `watch_url` may read the trust's `appointment.booked` events (the operator's login when provisioned).
    The PCN manager and the MHP sign in through `issuer` (the embedded provider) like any user.
    """
    rng = random.Random(seed)
    if booking_url is not None:
        await load_demo_rota(booking_url, issuer)
    mhp = DemoMhp(triage_url, rng=random.Random(rng.random()))

    async with PracticeFeed(logins) as feed:

        async def practices() -> None:
            while True:
                await feed.publish(synthetic_call(rng, practices=feed.practices))
                await asyncio.sleep(rng.expovariate(calls_per_minute / 60))

        async def clinician() -> None:
            async with httpx.AsyncClient(timeout=10, auth=SignedInAs(issuer, DEMO_MHP)) as client:
                while True:
                    try:
                        await mhp.work_once(client)
                    except (httpx.HTTPError, IdentityProviderError) as exc:
                        log.warning("demo_triage_unreachable", error=type(exc).__name__)
                    await asyncio.sleep(3)

        await asyncio.gather(
            practices(), clinician(), report_outcomes(watch_url, feed, rng, pcn_code=DEMO_PCN)
        )


__all__ = [
    "DEMO_MHP",
    "DEMO_PCN",
    "DEMO_PCN_MANAGER",
    "DEMO_PRACTICES",
    "DemoMhp",
    "demo_rota",
    "load_demo_rota",
    "practice_outcome",
    "publish_calls",
    "run_demo",
    "synthetic_call",
    "synthetic_nhs_number",
]
