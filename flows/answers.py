"""Reading a person's answer to a question: pick an option, say yes or no, give a code.

People answer with a number, a button, the option's word, or a near-miss of it
("repot" for "report"); all of them should work, in the contact's language.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapidfuzz import fuzz

from bot.messages import Choice
from bot.text import fold

FUZZY_CUTOFF = 82
MIN_OPTION_WORD = 4
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY"
REFERENCE_LENGTH = 6
_REFERENCE = re.compile(rf"^[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}$")


def match_choice(text: str, button: str | None, choices: Sequence[Choice]) -> Choice | None:
    if button is not None:
        return next((c for c in choices if c.value == button), None)
    folded = fold(text)
    if not folded:
        return None
    if folded.isdigit():
        index = int(folded)
        return choices[index - 1] if 1 <= index <= len(choices) else None
    for choice in choices:
        if folded in (fold(choice.label), fold(choice.value)):
            return choice
    # One word of one label ("roubo" for "Roubo, furto ou assalto"), if no other has it.
    by_word = [c for c in choices if folded in _words(c.label)]
    if len(by_word) == 1:
        return by_word[0]
    scored = sorted(
        ((fuzz.ratio(folded, fold(c.label)), i) for i, c in enumerate(choices)), reverse=True
    )
    clear_lead = len(scored) == 1 or (len(scored) > 1 and scored[0][0] - scored[1][0] >= 5)
    if scored and scored[0][0] >= FUZZY_CUTOFF and clear_lead:
        return choices[scored[0][1]]
    return None


def _words(label: str) -> set[str]:
    """The words of a label that can stand for it: long enough not to be "or", "de", "a"."""
    return {word for word in re.split(r"[^\w]+", fold(label)) if len(word) >= MIN_OPTION_WORD}


def match_word(text: str, words: Sequence[str]) -> bool:
    folded = fold(text)
    return bool(folded) and folded in {fold(w) for w in words}


def normalise_reference(text: str) -> str | None:
    """The canonical form of a typed reference code, or None if it cannot be one."""
    candidate = re.sub(r"[\s\-_.]", "", text).upper()
    return candidate if _REFERENCE.match(candidate) else None


def format_reference(reference: str) -> str:
    half = len(reference) // 2
    return f"{reference[:half]}-{reference[half:]}"
