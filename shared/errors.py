"""Errors every layer may raise; no I/O here, so domain code can import it."""

from __future__ import annotations


class RuleViolation(Exception):
    """A command or event that breaks a rule: it can never succeed as sent, so it is not retried.

    On AMQP it is dead-lettered at once with `reason`; on HTTP it is a 4xx with `reason`. The reason names
    fields and rules, never a patient's values (it goes into dead-letter headers and responses).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotYet(Exception):
    """A valid message that cannot be applied *yet* (it overtook the event it depends on).

    The consumer retries it with backoff up to the delivery limit: a redelivery may find the
    dependency applied. Like RuleViolation, `reason` names no patient.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
