"""The labelled corpus of first messages (``tests/i18n/corpus/<lang>.yaml``), split once
and for all into a tuning part and a held-out part.

The split is a hash of each text, so it never changes when entries are added and
nobody chooses which sentences are held out. The bench and the tests read both.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
LANGUAGES = ("en", "fr", "ar", "pt", "sw", "so", "ckb", "ha")


@dataclass(frozen=True)
class Sample:
    language: str
    text: str
    kind: str  # "message" (3 to 20 words) or "opener" (1 to 3)

    @property
    def held_out(self) -> bool:
        """One entry in four, by the first hex digit of its text's SHA-1."""
        return hashlib.sha1(self.text.encode("utf-8")).hexdigest()[0] in "0123"


def load_corpus(directory: Path = CORPUS_DIR) -> list[Sample]:
    samples: list[Sample] = []
    for language in LANGUAGES:
        data = yaml.safe_load((directory / f"{language}.yaml").read_text(encoding="utf-8"))
        assert data["language"] == language
        samples += [Sample(language, text, "message") for text in data["messages"]]
        samples += [Sample(language, text, "opener") for text in data["openers"]]
    return samples
