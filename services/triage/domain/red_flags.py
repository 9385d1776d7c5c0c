"""The trust's red-flag vocabulary: phrases in a call's reason that bring the call to the top of the worklist.

Built from plain data (the content of the YAML file the trust maintains; its header documents the format)
and validated before the service starts. Matching is on normalised text, so case, accents in compatibility
forms, apostrophes, hyphens and punctuation never decide a match. Still no score (NICE NG225): a match only
orders the worklist, and out of working hours sends the call to the out-of-hours route.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

FORMAT_VERSION = 1
MAX_WORDS = 8
MAX_ALTERNATIVES = 24
MIN_STEM = 4
"""Letters before a `*` in a phrase: `harm*` is fine inside `self harm*`, `ha*` matches too much."""
MIN_SINGLE_WORD = 5
"""A one-word entry shorter than this (`die`, `end`, `kill`, `plan`) is an everyday word, not a red flag."""

_TOKEN = re.compile(r"[^\W_]+")
_APOSTROPHES_AND_HYPHENS = "'’ʼ‘-‐‑–"  # noqa: RUF001 (the typographic ones are the point)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Grammar words: a phrase made only of these ("to be", "all of it") matches almost any sentence.
FUNCTION_WORDS = _words(
    "a an the to be is am are was were been being it its of and or but if in on at by for with from off up"
    " down out over so as not no nor t s i me my you your he him his she her we us our they them their this"
    " that these those there here do does did done have has had get got can could will would should may"
    " might must all any some more very just now then again anymore still too"
)
# Everyday words that are red flags only inside a phrase ("end it all", "kill himself", "has a rope"):
# on their own they flag "end of the month", "kill time", "a plan for the week".
EVERYDAY_WORDS = FUNCTION_WORDS | _words(
    "myself himself herself themselves themself yourself ourselves someone somebody anyone anybody people"
    " others other life lives live living alive dead death die dies died dying end ends ending ended kill"
    " kills killing killed hurt hurts hurting harm harms harming harmed cut cuts cutting plan plans planning"
    " planned note notes letter rope knife tablets pills drugs voices bridge train hanging thoughts think"
    " low mood stress anxiety anxious worried upset crying tired help urgent want wants wanted wanting going"
    " feel feels feeling point reason nothing better worse"
)


class InvalidRedFlags(ValueError):
    """The vocabulary file is empty, malformed or has an entry that would flag ordinary sentences."""


def normalise(text: str) -> str:
    """Compatibility-normalised, casefolded words, one space apart: everything else is a separator."""
    return " ".join(_TOKEN.findall(unicodedata.normalize("NFKC", text).casefold()))


@dataclass(frozen=True)
class Alternative:
    """One way of saying one word of a phrase: its normalised words, the last one a stem when `stem`."""

    words: tuple[str, ...]
    stem: bool

    def pattern(self) -> str:
        *whole, last = (re.escape(word) for word in self.words)
        return " ".join([*whole, last + ("[^ ]*" if self.stem else "")])


@dataclass(frozen=True)
class Phrase:
    """A red flag: a sequence of positions, each any of its alternatives, matched as whole words."""

    group: str
    positions: tuple[tuple[Alternative, ...], ...]

    def pattern(self) -> str:
        return " ".join("(?:" + "|".join(a.pattern() for a in alts) + ")" for alts in self.positions)


class RedFlagVocabulary:
    """The trust's phrases, compiled once into one whole-word search over normalised text."""

    def __init__(self, phrases: Sequence[Phrase]) -> None:
        self.phrases = tuple(phrases)
        # Built from escaped words only: the file's text never reaches the pattern as syntax.
        body = "|".join(phrase.pattern() for phrase in self.phrases)
        self._search = re.compile(rf"(?<![^ ])(?:{body})(?![^ ])").search if self.phrases else None

    def __len__(self) -> int:
        return len(self.phrases)

    def matches(self, reason: str) -> bool:
        """Does the call's reason say any of the phrases (case, punctuation and spacing aside)?"""
        return self._search is not None and self._search(normalise(reason)) is not None

    @classmethod
    def parse(cls, data: object) -> RedFlagVocabulary:
        """The vocabulary from the file's content, or InvalidRedFlags naming the entry and what is wrong."""
        if not isinstance(data, Mapping) or set(data) != {"version", "red_flags"}:
            raise InvalidRedFlags("the file must be a mapping with exactly `version` and `red_flags`")
        if data["version"] != FORMAT_VERSION:
            raise InvalidRedFlags(f"version: only format version {FORMAT_VERSION} is understood")
        groups = data["red_flags"]
        if not isinstance(groups, Mapping) or not groups:
            raise InvalidRedFlags("red_flags: a mapping of group names to lists of phrases, not empty")
        phrases: list[Phrase] = []
        seen: dict[tuple[tuple[Alternative, ...], ...], str] = {}
        for group, entries in groups.items():
            if not isinstance(group, str) or not group.strip():
                raise InvalidRedFlags("red_flags: every group needs a name")
            if not isinstance(entries, list) or not entries:
                raise InvalidRedFlags(f"red_flags.{group}: a non-empty list of phrases")
            for index, entry in enumerate(entries):
                where = f"red_flags.{group}[{index}]"
                phrase = Phrase(group, _positions(entry, where))
                if phrase.positions in seen:
                    raise InvalidRedFlags(f"{where}: the same phrase as {seen[phrase.positions]}")
                seen[phrase.positions] = where
                phrases.append(phrase)
        return cls(phrases)


def _positions(entry: object, where: str) -> tuple[tuple[Alternative, ...], ...]:
    if not isinstance(entry, str) or not entry.strip():
        raise InvalidRedFlags(f"{where}: an empty entry; write a phrase")
    odd = sorted(
        {c for c in entry if not (c.isalnum() or c.isspace() or c in f"|*{_APOSTROPHES_AND_HYPHENS}")}
    )
    if odd:
        raise InvalidRedFlags(
            f"{where}: {''.join(odd)!r} is not part of the format (phrases of words, `|` between "
            "alternatives of one word, `*` ending a stem; no regular expressions)"
        )
    words = entry.split()
    if len(words) > MAX_WORDS:
        raise InvalidRedFlags(f"{where}: at most {MAX_WORDS} words in a phrase")
    positions = tuple(_alternatives(word, where) for word in words)
    _check_specific(positions, where)
    return positions


def _alternatives(word: str, where: str) -> tuple[Alternative, ...]:
    spellings = word.split("|")
    if len(spellings) > MAX_ALTERNATIVES:
        raise InvalidRedFlags(f"{where}: at most {MAX_ALTERNATIVES} alternatives for one word")
    alternatives = []
    for spelling in spellings:
        stem = spelling.endswith("*")
        if spelling.count("*") != int(stem):
            raise InvalidRedFlags(f"{where}: `*` only at the end of a word, once")
        words = tuple(normalise(spelling.rstrip("*")).split())
        if not words:
            raise InvalidRedFlags(f"{where}: an empty alternative (check the `|`)")
        if stem and (len(words[-1]) < MIN_STEM or not words[-1].isalpha()):
            raise InvalidRedFlags(f"{where}: a stem needs at least {MIN_STEM} letters before the `*`")
        alternatives.append(Alternative(words, stem))
    return tuple(alternatives)


def _check_specific(positions: tuple[tuple[Alternative, ...], ...], where: str) -> None:
    """Refuse entries that would flag ordinary sentences."""
    if len(positions) == 1:
        for alternative in positions[0]:
            if len(alternative.words) == 1:
                _check_single_word(alternative, where)
            elif all(word in FUNCTION_WORDS for word in alternative.words):
                raise InvalidRedFlags(f"{where}: a phrase of grammar words only matches almost anything")
        return
    if all(all(word in FUNCTION_WORDS for a in alts for word in a.words) for alts in positions):
        raise InvalidRedFlags(f"{where}: a phrase of grammar words only matches almost anything")


def _check_single_word(alternative: Alternative, where: str) -> None:
    [word] = alternative.words
    too_common = (
        any(common.startswith(word) for common in EVERYDAY_WORDS)
        if alternative.stem
        else word in EVERYDAY_WORDS
    )
    if len(word) < MIN_SINGLE_WORD or too_common:
        raise InvalidRedFlags(
            f"{where}: {word!r} alone is an everyday word; put it in a phrase (e.g. `kill himself`)"
        )
