"""The hazard log is part of the build: every hazard names the code of its control and tests that exist.

Removing or renaming a control's test, or a hazard losing its test, fails here; so does a risk rating
that is not what the DCB0129 matrix gives for its severity and likelihood.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "docs" / "clinical-safety" / "hazard-log.md"

FIELDS = (
    "Cause",
    "Effect",
    "Initial risk",
    "Control",
    "Implemented in",
    "Proved by",
    "Residual risk",
    "Status",
)

# The DCB0129/DCB0160 matrix: likelihood (5 very high ... 1 very low) x severity (1 minor ... 5 catastrophic)
# -> clinical risk rating 1 (acceptable) ... 5 (unacceptable).
MATRIX = {
    5: (3, 4, 4, 5, 5),
    4: (2, 3, 3, 4, 5),
    3: (2, 2, 3, 3, 4),
    2: (1, 2, 2, 3, 4),
    1: (1, 1, 2, 2, 3),
}

TIMES = "\N{MULTIPLICATION SIGN}"  # the log writes risk as "5 times 2" with this sign
_HEADING = re.compile(r"^### (H\d+) · (.+)$", re.MULTILINE)
_FIELD = re.compile(r"^- \*\*(?P<name>[^*]+):\*\* (?P<value>.*)$", re.MULTILINE)
_RISK = re.compile(rf"^(?P<s>[1-5]){TIMES}(?P<l>[1-5]) → (?P<rating>[1-5])\b")
_CODE = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Hazard:
    id: str
    title: str
    fields: dict[str, str]

    def references(self, name: str) -> list[str]:
        return _CODE.findall(self.fields.get(name, ""))


def hazards() -> list[Hazard]:
    text = LOG.read_text(encoding="utf-8")
    headings = list(_HEADING.finditer(text))
    found = []
    for heading, following in zip(headings, [*headings[1:], None], strict=True):
        body = text[heading.end() : following.start() if following else len(text)]
        fields = {m["name"]: m["value"].strip() for m in _FIELD.finditer(body)}
        found.append(Hazard(heading[1], heading[2].strip(), fields))
    return found


@cache
def _test_names(path: Path) -> frozenset[str]:
    """`name` and `Class::name` for every test function the file defines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            )
    return frozenset(n for n in names if n.rsplit("::", 1)[-1].startswith("test"))


def missing_test(node_id: str) -> str | None:
    """Why `tests/x.py::test_name` names no existing test, or None when it does."""
    path_text, sep, name = node_id.partition("::")
    if not sep or not name:
        return f"{node_id!r} is not a test node id (tests/<file>.py::<test>)"
    path = ROOT / path_text
    if not path_text.startswith("tests/") or path.suffix != ".py" or not path.is_file():
        return f"{path_text} is not a test file"
    if name.split("[", 1)[0] not in _test_names(path):
        return f"{path_text} has no test {name}"
    return None


def risk(text: str) -> tuple[int, int, int]:
    match = _RISK.match(text)
    assert match, f"risk {text!r} is not written `severity{TIMES}likelihood → rating`"
    return int(match["s"]), int(match["l"]), int(match["rating"])


HAZARDS = hazards()


def test_hazards_are_numbered_h1_h2_in_order_with_no_gap() -> None:
    assert [h.id for h in HAZARDS] == [f"H{n}" for n in range(1, len(HAZARDS) + 1)]


@pytest.mark.parametrize("hazard", HAZARDS, ids=lambda h: h.id)
def test_every_hazard_is_in_dcb0129_form(hazard: Hazard) -> None:
    assert [f for f in FIELDS if not hazard.fields.get(f)] == [], f"{hazard.id} lacks fields"
    status = hazard.fields["Status"]
    assert status == "controlled" or status.startswith("open: "), f"{hazard.id}: status {status!r}"


@pytest.mark.parametrize("hazard", HAZARDS, ids=lambda h: h.id)
def test_every_risk_rating_is_the_matrixs_and_the_control_never_raises_it(hazard: Hazard) -> None:
    initial, residual = risk(hazard.fields["Initial risk"]), risk(hazard.fields["Residual risk"])
    for severity, likelihood, rating in (initial, residual):
        assert rating == MATRIX[likelihood][severity - 1], (
            f"{hazard.id}: {severity}{TIMES}{likelihood} is not {rating}"
        )
    assert residual[2] <= initial[2], f"{hazard.id}: the residual risk is above the initial risk"


@pytest.mark.parametrize("hazard", HAZARDS, ids=lambda h: h.id)
def test_every_hazard_names_tests_that_exist(hazard: Hazard) -> None:
    tests = hazard.references("Proved by")
    assert tests, f"{hazard.id} names no test that proves its control"
    assert [why for t in tests if (why := missing_test(t))] == []


@pytest.mark.parametrize("hazard", HAZARDS, ids=lambda h: h.id)
def test_every_hazard_names_the_code_of_its_control(hazard: Hazard) -> None:
    code = hazard.references("Implemented in")
    assert code, f"{hazard.id} names no code implementing its control"
    assert [c for c in code if not (ROOT / c).exists()] == [], f"{hazard.id} names code that does not exist"


def test_the_check_itself_catches_a_missing_or_renamed_test() -> None:
    # Without this, a parser that found nothing would pass every hazard above.
    assert (
        missing_test(
            "tests/clinical_safety/test_hazard_log.py::test_hazards_are_numbered_h1_h2_in_order_with_no_gap"
        )
        is None
    )
    assert missing_test("tests/clinical_safety/test_hazard_log.py::test_that_was_renamed") is not None
    assert missing_test("tests/no_such_file.py::test_x") is not None
    assert missing_test("tests/clinical_safety/test_hazard_log.py") is not None
    assert len(HAZARDS) >= 26
