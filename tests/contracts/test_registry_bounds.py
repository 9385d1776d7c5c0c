"""parse_event's guards before parsing: size, and nesting found by a linear scan that strings cannot fool."""

from __future__ import annotations

import pytest

from shared.contracts.registry import MAX_BODY_BYTES, MAX_NESTING, ContractError, nesting_depth, parse_event


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"{}", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[{{{{"}', 1),  # brackets inside a string do not count
        (b'{"a": "\\"[[[", "b": [[]]}', 3),  # nor after an escaped quote
        (b'"' + b'\\"' * 1000, 0),  # an unterminated string of escaped quotes: no brackets at all
        (b"[" * 40, 40),
    ],
)
def test_nesting_depth(body: bytes, depth: int) -> None:
    assert nesting_depth(body) == depth


def test_deep_and_oversize_bodies_are_refused_before_parsing() -> None:
    with pytest.raises(ContractError, match="nests deeper"):
        parse_event(b"[" * (MAX_NESTING + 1) + b"]" * (MAX_NESTING + 1))
    with pytest.raises(ContractError, match="larger than"):
        parse_event(b" " * (MAX_BODY_BYTES + 1))
    with pytest.raises(ContractError, match="not valid JSON"):
        parse_event(b'"' + b'\\"' * 30_000)  # the body that froze the event loop for 14 s under the old regex


def test_a_sender_s_event_type_is_never_echoed_in_the_reason() -> None:
    """The reason becomes a dead-letter header and a log line: never the sender's value (issue 12)."""
    for body in (b'{"event_type": "Jane Smith 4474340116"}', b'{"event_type": "call.recieved"}'):
        with pytest.raises(ContractError) as refused:
            parse_event(body)
        assert refused.value.reason == "unknown event_type or major version (not in the event catalogue)"
    with pytest.raises(ContractError) as refused:
        parse_event(b'{"event_type": "call.received", "schema_version": "987654321.0"}')
    assert "987654321" not in refused.value.reason
