"""One handler per command, each `async def verb(cmd, uow, ctx)`."""

from services.triage.application.handlers.deadlines import escalate_overdue_calls
from services.triage.application.handlers.decisions import record_decision
from services.triage.application.handlers.intake import receive_call

__all__ = ["escalate_overdue_calls", "receive_call", "record_decision"]
