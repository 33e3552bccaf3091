"""Cleaning what people type before anything reads it.

Providers deliver control characters, NUL bytes, bidi overrides and odd spacing;
staff pages and comparisons must see plain text. ``fold`` is the comparison form:
case, accents and punctuation do not decide whether "Eastleigh" matches "eastléigh".
"""

from __future__ import annotations

import re
import unicodedata

# Bidi embedding/override/isolate controls can disguise text in staff views.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_LINE_BREAKS = re.compile(r"\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)


def clean(text: str) -> str:
    """Drop control characters (but line breaks), collapse spaces, trim."""
    text = _LINE_BREAKS.sub("\n", text).translate(_BIDI_CONTROLS)
    kept = []
    for char in text:
        if char in "\n\t" or unicodedata.category(char)[0] != "C" or char == "\u200d":
            kept.append(char)
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(kept).split("\n")]
    return "\n".join(line for line in lines if line).strip()


def fold(text: str) -> str:
    """Comparison form: case-folded, accents removed, punctuation removed, spaces single."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_PUNCTUATION.sub(" ", stripped).split())


def has_words(text: str) -> bool:
    """True when the text contains at least one letter or digit (not only emoji)."""
    return any(unicodedata.category(c)[0] in "LN" for c in text)
