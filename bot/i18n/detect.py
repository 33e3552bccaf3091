"""Guessing the language of a first message, so most people never see a language menu.

langdetect alone is wrong on the messages a safety line gets: two or three words,
SMS spelling, and two of the eight languages (Hausa, Sorani Kurdish) it does not
know at all. So three kinds of evidence are added up per language, only over the
languages the deployment speaks:

1. the script: Arabic script is Arabic or Sorani, told apart by the letters Sorani
   writes and Arabic does not (ێ ۆ ڕ ڵ ە ی ک) and those Arabic writes and Sorani does
   not (ة ث ذ ص ض ط ظ ى, the article ال);
2. the lexicon (``lexicon.yaml``): greetings and calls for help at the start of a
   message count much, frequent small words a little;
3. langdetect's probabilities, seeded (the same text always gets the same answer),
   weighed among the lexicon's languages and a few widely written others and only
   then limited to the deployment's, so that it is never forced to call Swahili
   English; discounted as far as the lexicon points to a language it does not know;
   and asked only when the first two leave the question open (it costs 1 to 20 ms,
   the rest 0.05).

The answer is a language and a confidence, the leading language's share of all the
evidence; ``confident`` decides whether a person is answered in it or shown the menu.
"""

from __future__ import annotations

import math
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from bot.text import fold

LEXICON = Path(__file__).resolve().parent / "lexicon.yaml"
THRESHOLD = 0.55  # the leading language's share of the evidence, to answer in it
MIN_EVIDENCE = 1.0  # and at least this much of it (one opener, or a few words)
OPENER_WEIGHT = 3.0
LANGDETECT_WEIGHT = 0.35  # per word of the message, up to LANGDETECT_WORDS words
LANGDETECT_WORDS = 8
DECISIVE = 0.85  # lexicon and script alone this sure: langdetect is not asked

ARABIC_SCRIPT = frozenset({"ar", "ckb"})
SORANI_LETTERS = frozenset("ێۆڕڵەیکۊ")
SORANI_WEAK = frozenset("گچپژڤ")  # Sorani's, but Iraqi Arabic writes some of them too
ARABIC_LETTERS = frozenset("ةثذصضطظىأإؤ")
ARABIC_WEAK = frozenset("يك")  # Arabic's, but Sorani typed on an Arabic keyboard has them
_HOOKED = str.maketrans({"ɗ": "d", "ƙ": "k", "ɓ": "b", "ƴ": "y", "ʼ": "", "'": ""})


@dataclass(frozen=True)
class Detection:
    language: str | None
    confidence: float
    scores: Mapping[str, float] = field(default_factory=dict)

    @property
    def confident(self) -> bool:
        return self.language is not None and self.confidence >= THRESHOLD


def normalise(text: str) -> str:
    return fold(text.translate(_HOOKED))


@dataclass(frozen=True)
class Lexicon:
    """Openers (phrases) and frequent words per language, folded."""

    openers: Mapping[str, frozenset[str]]
    words: Mapping[str, frozenset[str]]

    @classmethod
    def load(cls, path: Path = LEXICON) -> Lexicon:
        data: dict[str, dict[str, list[str]]] = yaml.safe_load(path.read_text("utf-8"))

        def entries(lang: str, kind: str) -> frozenset[str]:
            listed = data[lang].get(kind) or []
            odd = [entry for entry in listed if not isinstance(entry, str)]
            if odd:  # YAML reads a bare no / on / yes as a boolean: quote it
                raise ValueError(f"{path}: {lang}.{kind}: not text: {odd}")
            return frozenset(normalise(entry) for entry in listed)

        return cls(
            openers={lang: entries(lang, "openers") for lang in data},
            words={lang: entries(lang, "words") for lang in data},
        )

    @property
    def languages(self) -> list[str]:
        return sorted(set(self.openers) | set(self.words))


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return Lexicon.load()


PROFILES = Path(PROFILES_DIRECTORY)


PROFILED = frozenset(path.name for path in PROFILES.iterdir())  # read once, not per message


def known_to_langdetect(languages: Iterable[str]) -> list[str]:
    """Those of ``languages`` langdetect has a profile for (not Hausa, not Kurdish)."""
    return sorted(lang for lang in languages if lang in PROFILED)


# Languages langdetect weighs a message against besides the lexicon's: widely written
# ones a message may really be in. Taken among these, an answer limited to the
# deployment's languages is not forced: see langdetect_probabilities.
ALSO_WEIGHED = ("es", "it", "de", "nl", "id", "tl", "tr", "fa", "ur", "af")
LANGDETECT_TRIALS = 3  # langdetect's default is 7; seeded, 3 agree and cost less
LANGDETECT_ITERATIONS = 200  # per trial (default 1000): a short text that has not
# settled by then will not settle, and the lexicon decides or the menu is shown


@lru_cache(maxsize=1)
def _factory() -> DetectorFactory:
    """langdetect with the profiles of the lexicon's languages and ALSO_WEIGHED, seeded:
    the same text, the same answer. (All 55 profiles cost up to 100 ms a message.)"""
    languages = known_to_langdetect([*default_lexicon().languages, *ALSO_WEIGHED])
    factory = DetectorFactory()
    factory.load_json_profile([(PROFILES / lang).read_text("utf-8") for lang in languages])
    factory.set_seed(0)
    return factory


def load_profiles() -> None:
    """Load langdetect's profiles now (some 60 ms), at start, rather than in the first
    message the lexicon cannot decide."""
    _factory()


def langdetect_probabilities(text: str, languages: Iterable[str]) -> dict[str, float]:
    """Plain langdetect's probabilities for ``languages``, out of all it knows.

    Its answer is taken among all its languages and only then limited: asked to choose
    among English, French and Portuguese alone, it calls a Swahili sentence English
    with certainty; among all, it says Swahili, and English gets nothing.
    """
    wanted = set(languages)
    if not known_to_langdetect(wanted):
        return {}
    detector = _factory().create()
    detector.n_trial = LANGDETECT_TRIALS
    detector.ITERATION_LIMIT = LANGDETECT_ITERATIONS
    detector.append(text)
    try:
        found = detector.get_probabilities()
    except LangDetectException:  # no letters it knows
        return {}
    return {lang.lang: lang.prob for lang in found if lang.lang in wanted}


class LanguageDetector:
    """Detection limited to a deployment's languages."""

    def __init__(self, languages: Iterable[str], lexicon: Lexicon | None = None) -> None:
        self.languages = list(dict.fromkeys(languages))
        if not self.languages:
            raise ValueError("a deployment speaks at least one language")
        self.lexicon = lexicon or default_lexicon()
        # folded word -> the enabled languages that list it
        self._words: dict[str, list[str]] = defaultdict(list)
        self._openers: dict[str, list[str]] = defaultdict(list)
        for lang in self.languages:
            for word in self.lexicon.words.get(lang, ()):
                self._words[word].append(lang)
            for opener in self.lexicon.openers.get(lang, ()):
                self._openers[opener].append(lang)
        self._longest_opener = max((len(o.split()) for o in self._openers), default=0)
        self._latin = [lang for lang in self.languages if lang not in ARABIC_SCRIPT]
        self._arabic = [lang for lang in self.languages if lang in ARABIC_SCRIPT]
        # Latin-script languages langdetect has never seen (Hausa): see _known_share.
        self._unknown = [lang for lang in self._latin if lang not in PROFILED]

    def detect(self, text: str) -> Detection:
        letters = [c for c in text if c.isalpha()]
        if not letters:
            return Detection(None, 0.0)
        arabic = sum(1 for c in letters if "\u0600" <= c <= "\u06ff")
        latin = sum(1 for c in letters if c.isascii() or "\u00c0" <= c <= "\u024f")
        folded = normalise(text)
        tokens = folded.split()
        scores: dict[str, float] = defaultdict(float)
        if arabic > latin:
            if not self._arabic:
                return Detection(None, 0.0)
            self._lexicon_evidence(tokens, scores, self._arabic)
            self._script_evidence(text, scores)
            return self._decide(scores, restrict=self._arabic)
        if latin * 2 < len(letters):  # Cyrillic, Devanagari...: not a language of ours
            return Detection(None, 0.0)
        self._lexicon_evidence(tokens, scores, self.languages)
        found = self._decide(scores, restrict=self.languages)
        if found.confident and found.confidence >= DECISIVE:
            return found
        weight = LANGDETECT_WEIGHT * min(len(tokens), LANGDETECT_WORDS)
        weight *= self._known_share(scores)
        for lang, prob in langdetect_probabilities(folded, self._latin).items():
            scores[lang] += weight * prob
        return self._decide(scores, restrict=self.languages)

    def _known_share(self, scores: Mapping[str, float]) -> float:
        """How likely the text is in a language langdetect knows at all, by the lexicon:
        its probabilities are shares among its own languages, and a Hausa sentence is
        not 90% Swahili because langdetect has never seen Hausa."""
        unknown = self._unknown
        if not unknown:
            return 1.0
        total = sum(scores.values())
        if total <= 0:
            return 1 - len(unknown) / len(self._latin)
        return 1 - sum(scores.get(lang, 0.0) for lang in unknown) / total

    def _lexicon_evidence(
        self, tokens: list[str], scores: dict[str, float], allowed: list[str]
    ) -> None:
        for size in range(min(self._longest_opener, len(tokens)), 0, -1):
            langs = self._openers.get(" ".join(tokens[:size]))
            if langs:
                for lang in langs:
                    if lang in allowed:
                        scores[lang] += OPENER_WEIGHT / len(langs)
                break
        for token in tokens:
            langs = self._words.get(token)
            if langs:
                for lang in langs:
                    if lang in allowed:
                        scores[lang] += 1.0 / len(langs)

    def _script_evidence(self, text: str, scores: dict[str, float]) -> None:
        """Arabic or Sorani, word by word, from the letters each writes alone."""
        if len(self._arabic) == 1:
            scores[self._arabic[0]] += MIN_EVIDENCE * 2  # the only Arabic-script language
            return
        for word in unicodedata.normalize("NFC", text).split():
            if any(c in SORANI_LETTERS for c in word):
                scores["ckb"] += 1.0
            elif any(c in ARABIC_LETTERS for c in word) or word.startswith("ال"):
                scores["ar"] += 1.0
            elif any(c in SORANI_WEAK for c in word):
                scores["ckb"] += 0.3
            elif any(c in ARABIC_WEAK for c in word):
                scores["ar"] += 0.2

    @staticmethod
    def _decide(scores: Mapping[str, float], restrict: list[str]) -> Detection:
        kept = {lang: s for lang, s in scores.items() if lang in restrict and s > 0}
        total = sum(kept.values())
        if not kept or total <= 0:
            return Detection(None, 0.0, kept)
        best = max(sorted(kept), key=lambda lang: kept[lang])
        if kept[best] < MIN_EVIDENCE:
            return Detection(best, 0.0, kept)
        share = kept[best] / total
        return Detection(best, math.floor(share * 1000) / 1000, kept)
