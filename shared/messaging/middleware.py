"""FastStream middleware binding the message's event_id and correlation_id into the structlog context.

Read from AMQP properties (message_id = event_id), so even a message whose body cannot be parsed is
logged with its ids. The service name is bound once by configure_logging.
"""

from __future__ import annotations

from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream.message import StreamMessage


class LogContextMiddleware(BaseMiddleware):
    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        with structlog.contextvars.bound_contextvars(
            event_id=msg.message_id, correlation_id=msg.correlation_id
        ):
            return await call_next(msg)
