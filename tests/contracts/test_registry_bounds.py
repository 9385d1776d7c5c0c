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


def test_a_sender_s_event_type_is_named_only_when_it_looks_like_one() -> None:
    with pytest.raises(ContractError) as refused:
        parse_event(b'{"event_type": "Jane Smith 4474340116"}')
    assert "Jane" not in refused.value.reason
    with pytest.raises(ContractError, match=r"'call\.recieved'"):
        parse_event(b'{"event_type": "call.recieved"}')
