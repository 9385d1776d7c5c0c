"""From `event_type` and major version to the contract model; parsing of raw message bodies."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from shared.contracts.envelope import Envelope
from shared.contracts.v1 import ALL_V1

EventModel = type[Envelope[Any]]

REGISTRY: dict[tuple[str, int], EventModel] = {(m.EVENT_TYPE, m.MAJOR): m for m in ALL_V1}

MAX_BODY_BYTES = 64 * 1024
"""The largest valid event (a call with a 2,000-character reason) is under 8 KiB."""
MAX_NESTING = 16
"""Our deepest contract nests 4 levels (envelope, data, patient, list); JSON deeper than this is hostile."""


class ContractError(ValueError):
    """A message that can never be processed: bad JSON, unknown type or failed validation.

    `reason` is safe to put in a dead-letter header: it names fields, never their values.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def model_for(event_type: str, major: int = 1) -> EventModel:
    try:
        return REGISTRY[(event_type, major)]
    except KeyError:
        # Never the sender's value: the reason goes into a dead-letter header and the log (issue 12).
        raise ContractError("unknown event_type or major version (not in the event catalogue)") from None


def describe_validation_error(error: ValidationError) -> str:
    """Field paths and messages only: pydantic's own text echoes input values (maybe a patient's)."""
    parts = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        location = ".".join(str(p) for p in item["loc"]) or "<message>"
        parts.append(f"{location}: {item['msg']}")
    return "; ".join(parts)


def nesting_depth(body: bytes) -> int:
    """How deep a JSON text's arrays and objects nest, in one linear pass (no parsing, no recursion).

    Brackets inside strings do not count; an unterminated string simply ends the scan.
    """
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ContractError(f"body holds the non-JSON number {name}")


def parse_event(body: bytes | str) -> Envelope[Any]:
    """Parse and validate one message body into its contract model, or raise ContractError.

    Whatever the bytes, the only exception that leaves is ContractError: size and nesting are bounded
    before parsing, and any other failure while decoding or validating (recursion, overflow, memory...)
    becomes one, so a consumer can always dead-letter the message instead of looping on it.
    """
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if len(data) > MAX_BODY_BYTES:
        raise ContractError(f"body is larger than {MAX_BODY_BYTES} bytes")
    if nesting_depth(data) > MAX_NESTING:
        raise ContractError(f"body nests deeper than {MAX_NESTING} levels")
    try:
        return _parse(data)
    except ContractError:
        raise
    except Exception as exc:  # the contract of this function: nothing but ContractError escapes
        raise ContractError(f"body could not be decoded or validated ({type(exc).__name__})") from None


def _parse(body: bytes) -> Envelope[Any]:
    try:
        raw: Any = json.loads(body, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(f"body is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(raw, dict):
        raise ContractError("body is not a JSON object")
    event_type = raw.get("event_type")
    if not isinstance(event_type, str):
        raise ContractError("event_type: missing or not a string")
    version = raw.get("schema_version", "1.0")
    try:
        major = int(str(version).split(".")[0])
    except ValueError:
        raise ContractError("schema_version: not of the form <major>.<minor>") from None
    model = model_for(event_type, major)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ContractError(f"{event_type} v{major} invalid: {describe_validation_error(exc)}") from None
