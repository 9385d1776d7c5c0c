"""The trust's red-flag vocabulary: the shipped phrases against a corpus, the file format and its checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from services.triage.adapters.red_flag_file import DEFAULT_RED_FLAGS_FILE, load_red_flags
from services.triage.domain.red_flags import InvalidRedFlags, RedFlagVocabulary, normalise
from services.triage.settings import TriageSettings
from tests.triage.unit.fakes import SHIPPED_RED_FLAGS

FULL_WIDTH_SELF = "".join(chr(ord(letter) + 0xFEE0) for letter in "SELF")
CORPUS = yaml.safe_load((Path(__file__).with_name("red_flag_corpus.yaml")).read_text(encoding="utf-8"))


def vocabulary(*phrases: str) -> RedFlagVocabulary:
    return RedFlagVocabulary.parse({"version": 1, "red_flags": {"test": list(phrases)}})


# --- the shipped vocabulary against the corpus ----------------------------------------------------


@pytest.mark.parametrize("reason", CORPUS["must_match"])
def test_the_shipped_vocabulary_flags_the_common_ways_people_say_it(reason: str) -> None:
    assert SHIPPED_RED_FLAGS.matches(reason)


@pytest.mark.parametrize("reason", CORPUS["must_not_match"])
def test_the_shipped_vocabulary_does_not_flag_ordinary_sentences(reason: str) -> None:
    assert not SHIPPED_RED_FLAGS.matches(reason)


def test_the_corpus_holds_the_phrasings_the_issue_names() -> None:
    named = {"wants to end it all", "took an overdose", "has a plan to kill himself", "self harm"}
    assert named | {"doesn't want to be here anymore", "Wants to END IT ALL!!!", "self-harming"} <= set(
        CORPUS["must_match"]
    )
    assert {"end of the month", "all ended well", "kill time", "hurt her back"} <= set(
        CORPUS["must_not_match"]
    )


# --- matching --------------------------------------------------------------------------------------


def test_text_is_normalised_to_casefolded_words_one_space_apart() -> None:
    assert normalise("Doesn\u2019t  want\u2014to BE here!!") == "doesn t want to be here"
    assert normalise(f"{FULL_WIDTH_SELF}-HARM") == "self harm"  # compatibility forms (NFKC)
    assert normalise("STRAẞE") == "strasse"  # casefold, not lower


def test_phrases_match_whole_words_in_order_with_stems_and_alternatives() -> None:
    flags = vocabulary("end|ending it all", "overdos*", "self-harm*")
    assert flags.matches("is ending it all")
    assert not flags.matches("pretend it all went fine")  # not a whole word
    assert not flags.matches("end all of it")  # not in order
    assert flags.matches("overdosed")
    assert flags.matches("Self Harming")
    assert not flags.matches("an overdue bill")


def test_apostrophes_in_a_phrase_are_matched_as_the_caller_writes_them() -> None:
    flags = vocabulary("don't|dont want to be here")
    assert flags.matches("DON'T want to be here")
    assert flags.matches("dont want to be here")
    assert flags.matches("don\u2019t want to be here")


# --- the file and what it refuses -----------------------------------------------------------------


def test_the_shipped_file_loads_and_covers_each_group_the_issue_names() -> None:
    flags = load_red_flags(DEFAULT_RED_FLAGS_FILE)
    groups = {phrase.group for phrase in flags.phrases}
    assert {"suicide", "not wanting to be here", "self-harm", "overdose", "plan or means"} <= groups
    assert {"harm to others", "psychosis"} <= groups


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ("", "empty entry"),
        ("   ", "empty entry"),
        ("kill (myself|himself)", "not part of the format"),
        (r"\bsuicid\w*", "not part of the format"),
        ("overdose.", "not part of the format"),
        ("want to die?", "not part of the format"),
        ("kill||hurt myself", "empty alternative"),
        ("ki* himself", "stem needs at least"),
        ("over*dose", "`*` only at the end"),
        ("overdos**", "`*` only at the end"),
        ("kill", "everyday word"),
        ("plan", "everyday word"),
        ("cutting", "everyday word"),
        ("voices", "everyday word"),
        ("killi*", "everyday word"),
        ("sad", "everyday word"),
        ("to be", "grammar words"),
        ("all of it", "grammar words"),
        ("one two three four five six seven eight nine", "at most 8 words"),
        (7, "empty entry"),
    ],
)
def test_an_empty_malformed_or_over_broad_entry_is_refused(entry: Any, complaint: str) -> None:
    with pytest.raises(InvalidRedFlags, match=complaint) as refused:
        RedFlagVocabulary.parse({"version": 1, "red_flags": {"suicide": ["end it all", entry]}})
    assert "red_flags.suicide[1]" in str(refused.value)


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        (None, "mapping with exactly"),
        ([], "mapping with exactly"),
        ({"red_flags": {"a": ["end it all"]}}, "mapping with exactly"),
        ({"version": 2, "red_flags": {"a": ["end it all"]}}, "format version 1"),
        ({"version": 1, "red_flags": {}}, "not empty"),
        ({"version": 1, "red_flags": ["end it all"]}, "not empty"),
        ({"version": 1, "red_flags": {"a": []}}, "non-empty list"),
        ({"version": 1, "red_flags": {"a": "end it all"}}, "non-empty list"),
        ({"version": 1, "red_flags": {"a": ["end it all"], "b": ["End it ALL"]}}, "the same phrase as"),
    ],
)
def test_a_file_that_is_empty_or_not_the_format_is_refused(data: object, complaint: str) -> None:
    with pytest.raises(InvalidRedFlags, match=complaint):
        RedFlagVocabulary.parse(data)


def test_the_service_takes_the_file_named_by_triage_red_flags_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "trust-red-flags.yaml"
    own.write_text("version: 1\nred_flags:\n  local:\n    - wants to walk into the sea\n", encoding="utf-8")
    monkeypatch.setenv("TRIAGE_RED_FLAGS_FILE", str(own))
    flags = TriageSettings().red_flags()
    assert flags.matches("Wants to walk into the sea.")
    assert not flags.matches("took an overdose")  # the trust's file replaces the default


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("", "mapping with exactly"),
        ("version: 1\nred_flags: [unclosed\n", "not YAML"),
        ("version: 1\nred_flags:\n  local:\n    - kill\n", "everyday word"),
    ],
)
def test_the_service_refuses_to_start_on_an_empty_malformed_or_over_broad_file(
    tmp_path: Path, content: str, complaint: str
) -> None:
    bad = tmp_path / "red-flags.yaml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationError, match=complaint):
        TriageSettings(red_flags_file=bad)


def test_the_service_refuses_to_start_when_the_file_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot be read"):
        TriageSettings(red_flags_file=tmp_path / "absent.yaml")
