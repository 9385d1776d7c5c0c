"""Structured logging, configured once per process: JSON off a terminal, coloured console on one.

Per-message context (service, event_id, correlation_id) is bound through contextvars, so every line
logged while handling a message carries it. Never log patient identifiers or free-text reasons.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from nhs_number.validate import is_valid as nhs_number_is_valid
from prometheus_client import Counter

from shared.contracts.text import NHS_NUMBER_CANDIDATE, is_nhs_number

_configured = False

LOG_LINES_DROPPED = Counter(
    "mhp_log_lines_dropped_total", "Log lines dropped because rendering or writing them failed"
)


class DroppingPrintLogger(structlog.PrintLogger):
    """Writes like PrintLogger, but a failing stream (closed, full disk, broken pipe) drops the line and
    counts it: logging must never stop the relay or a consumer."""

    def msg(self, message: str) -> None:
        try:
            super().msg(message)
        except Exception:
            LOG_LINES_DROPPED.inc()

    log = debug = info = warn = warning = err = error = critical = exception = fatal = failure = msg


class DroppingPrintLoggerFactory:
    def __init__(self, file: Any) -> None:
        self._file = file

    def __call__(self, *args: Any) -> DroppingPrintLogger:
        return DroppingPrintLogger(self._file)


def never_raise(processor: Any) -> Any:
    """Wrap the renderer: an event it cannot render is dropped and counted instead of raised."""

    def safe(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> Any:
        try:
            return processor(logger, method, event_dict)
        except Exception:
            LOG_LINES_DROPPED.inc()
            raise structlog.DropEvent from None

    return safe


REDACTED = "[redacted-nhs-number]"


def redact_text(text: str) -> str:
    """Every NHS number in `text` replaced, found as the contracts find them (`shared.contracts.text`)."""

    def replace(match: re.Match[str]) -> str:
        return REDACTED if is_nhs_number(match.group()) else match.group()

    return NHS_NUMBER_CANDIDATE.sub(replace, text)


def _is_ten_digit_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 10**9 <= value < 10**10


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if _is_ten_digit_int(value) and nhs_number_is_valid(str(value)):
        return REDACTED
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_redact(v) for v in value]
    return value


def redact_nhs_numbers(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Safety net under the rule "never log identity": a valid NHS number in any log value is replaced,
    however deeply it sits in dicts and lists.

    Catches what a careless `log.info(..., detail=str(exc))` would leak (pydantic messages echo input).
    """
    for key, value in event_dict.items():
        event_dict[key] = _redact(value)
    return event_dict


def configure_logging(service: str, *, level: str = "INFO", json: bool | None = None) -> None:
    global _configured
    if json is None:
        json = not sys.stderr.isatty()
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Tracebacks become text before redaction in both modes, so an NHS number in one is scrubbed too.
    exception_renderer: Any = structlog.processors.format_exc_info
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            *shared_processors,
            exception_renderer,
            redact_nhs_numbers,  # after exceptions are rendered to text, so tracebacks are scrubbed too
            never_raise(renderer),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=DroppingPrintLoggerFactory(sys.stderr),
        # Not cached: a module-level logger must follow a later configure_logging (tests, reconfiguration).
        cache_logger_on_first_use=False,
    )
    # Libraries (uvicorn, aio-pika, SQLAlchemy) log through stdlib logging: render their warnings and
    # tracebacks through the same chain, redaction included, and keep them quiet unless they warn.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared_processors, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                exception_renderer,
                redact_nhs_numbers,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)
    _configured = True


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
