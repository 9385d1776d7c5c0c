"""A command naming something this service does not hold: it can never succeed as sent."""

from __future__ import annotations

import uuid

from shared.errors import RuleViolation


class ReferralNotFound(RuleViolation):
    def __init__(self, referral_id: uuid.UUID) -> None:
        super().__init__("referral_id: no referral with this id was made by this service")
        self.referral_id = referral_id


class FollowUpNotFound(RuleViolation):
    def __init__(self, follow_up_id: uuid.UUID) -> None:
        super().__init__("follow_up_id: no DNA follow-up with this id")
        self.follow_up_id = follow_up_id
