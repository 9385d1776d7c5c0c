"""The committed AsyncAPI document is the one the contract models generate, and it is well formed."""

from __future__ import annotations

from pathlib import Path

import yaml

from shared.contracts.asyncapi import build_document, render
from shared.contracts.registry import REGISTRY

DOCUMENT = Path(__file__).parents[2] / "docs" / "asyncapi.yaml"


def test_committed_asyncapi_document_is_current() -> None:
    assert DOCUMENT.read_text() == render(), (
        "docs/asyncapi.yaml is stale: run `python -m shared.contracts.asyncapi > docs/asyncapi.yaml`"
    )


def test_every_event_version_has_a_channel_whose_address_is_its_routing_key_pattern() -> None:
    document = build_document()
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {f"{t}.v{m}.{{pcn_code}}.{{practice_ods}}" for t, m in REGISTRY}


def test_every_reference_in_the_document_resolves() -> None:
    document = yaml.safe_load(render())

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                target: object = document
                for part in node["$ref"].removeprefix("#/").split("/"):
                    assert isinstance(target, dict)
                    assert part in target, f"dangling {node['$ref']}"
                    target = target[part]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
