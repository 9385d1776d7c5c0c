"""Every event version's JSON Schema is snapshotted; a change that is not purely additive fails.

Record an additive change with `MHP_UPDATE_SNAPSHOTS=1 pytest tests/contracts`; a breaking change needs
a new major version (v2 model) instead, and the v1 snapshot stays as it is.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from shared.contracts.compat import breaking_changes
from shared.contracts.envelope import Envelope
from shared.contracts.registry import REGISTRY

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("MHP_UPDATE_SNAPSHOTS") == "1"


def _snapshot_path(model: type[Envelope[Any]]) -> Path:
    return SNAPSHOTS / f"{model.EVENT_TYPE}.v{model.MAJOR}.json"


def _schema(model: type[Envelope[Any]]) -> dict[str, Any]:
    return json.loads(json.dumps(model.model_json_schema(), sort_keys=True))  # type: ignore[no-any-return]


@pytest.mark.parametrize("model", list(REGISTRY.values()), ids=lambda m: f"{m.EVENT_TYPE}.v{m.MAJOR}")
def test_schema_changes_are_purely_additive(model: type[Envelope[Any]]) -> None:
    path = _snapshot_path(model)
    current = _schema(model)
    if UPDATE or not path.exists():
        if path.exists():
            problems = breaking_changes(json.loads(path.read_text()), current)
            assert not problems, f"refusing to record a breaking change to {path.name}: {problems}"
        path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
        if not UPDATE:
            pytest.fail(f"no snapshot for {path.name} yet: recorded it, commit it")
        return
    problems = breaking_changes(json.loads(path.read_text()), current)
    assert not problems, (
        f"{model.EVENT_TYPE} v{model.MAJOR} changed in a way that is not additive; publish a v"
        f"{model.MAJOR + 1} model instead: " + "; ".join(problems)
    )


def test_every_snapshot_belongs_to_a_registered_event_version() -> None:
    # A deleted model would otherwise leave its snapshot behind and stop being checked.
    known = {_snapshot_path(model).name for model in REGISTRY.values()}
    assert {p.name for p in SNAPSHOTS.glob("*.json")} <= known
