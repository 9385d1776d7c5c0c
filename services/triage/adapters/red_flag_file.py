"""Reading the trust's red-flag vocabulary from its YAML file (format: the shipped file's header)."""

from __future__ import annotations

from pathlib import Path

import yaml

from services.triage.domain.red_flags import InvalidRedFlags, RedFlagVocabulary

DEFAULT_RED_FLAGS_FILE = Path(__file__).resolve().parents[1] / "data" / "red-flags.yaml"


def load_red_flags(path: Path) -> RedFlagVocabulary:
    """The vocabulary in `path`, or InvalidRedFlags saying what is wrong (the service must not start)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRedFlags(f"red-flag file {path}: cannot be read ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidRedFlags(f"red-flag file {path}: not YAML ({exc})") from None
    try:
        return RedFlagVocabulary.parse(data)
    except InvalidRedFlags as exc:
        raise InvalidRedFlags(f"red-flag file {path}: {exc}") from None
