"""Who may read which metrics: the service's one access table (issue 11).

Metrics holds no patient identity (the archive keeps coded fields and an age band only, `domain/privacy.py`),
so its reads are not patient-record reads and write no access audit. Scope is the routes' second question:
a PCN manager reads their own PCN only; another PCN, or one outside the directory, answers 404.
"""

from __future__ import annotations

from enum import StrEnum

from shared.identity import AccessPolicy, Role


class Action(StrEnum):
    READ_MONTHLY_RETURN = "read a PCN's monthly return"
    READ_TRUST_VIEW = "read the trust view across PCNs"
    WATCH_LIVE_FEED = "watch the live feed of escalations and deadline breaches"
    VIEW_TRUST_DASHBOARD = "view the trust dashboard"
    VIEW_PCN_DASHBOARD = "view a PCN's dashboard"


# Management roles only: clinicians, practices, IG and operators have their own services and tools; the
# trust view and the live feed compare every PCN, which is the trust's business, not a PCN's.
MANAGERS = frozenset({Role.PCN_MANAGER, Role.TRUST_MANAGER})
TRUST = frozenset({Role.TRUST_MANAGER})

POLICY = AccessPolicy(
    {
        Action.READ_MONTHLY_RETURN: MANAGERS,
        Action.READ_TRUST_VIEW: TRUST,
        Action.WATCH_LIVE_FEED: TRUST,
        Action.VIEW_TRUST_DASHBOARD: TRUST,
        Action.VIEW_PCN_DASHBOARD: MANAGERS,
    }
)
