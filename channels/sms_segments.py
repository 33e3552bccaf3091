"""What an SMS costs: its segments, counted as the network counts them.

A text of GSM 03.38 characters goes as GSM-7: 160 characters in one segment, 153
per segment once it is split (the rest carries the join header); the extension
table's characters (``€ [ ] { } \\ ~ ^ |`` and form feed) take two. One character
outside the alphabet turns the whole message into UCS-2: 70 per segment, 67 when
split, counted in UTF-16 code units (an emoji takes two). A Portuguese "não"
costs a UCS-2 message; ``transliterate`` turns it into "nao" for deployments
that choose GSM-7 only, while keeping the accents GSM-7 has (é, è, à, ü...), and
writes Hausa's hooked letters plain (ƙ as k, ɗ as d), as phones' keyboards do.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("\f^{}\\[~]|€")
GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67
# Characters people type that GSM-7 lacks but has a plain stand-in for.
_STAND_INS = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "«": '"',
        "»": '"',
        "–": "-",
        "—": "-",
        "…": "...",
        "\u00a0": " ",
        "\u202f": " ",
        # Hausa's hooked letters, written plain on most phones' keyboards.
        "ɓ": "b",
        "ɗ": "d",
        "ƙ": "k",
        "ƴ": "y",
        "Ɓ": "B",
        "Ɗ": "D",
        "Ƙ": "K",
        "Ƴ": "Y",
    }
)


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets or UTF-16 code units
    count: int


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def count_segments(text: str) -> Segments:
    if not text:
        return Segments("GSM-7", 0, 1)
    if is_gsm7(text):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        single, multi, encoding = GSM7_SINGLE, GSM7_MULTI, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = UCS2_SINGLE, UCS2_MULTI, "UCS-2"
    count = 1 if units <= single else math.ceil(units / multi)
    return Segments(encoding, units, count)


def transliterate(text: str) -> str:
    """The text in GSM-7 where it can be: accents GSM-7 lacks are dropped (ã→a, ç→c,
    ê→e), typographic quotes and dashes become plain ones. Characters with no Latin
    stand-in (Arabic, emoji) are left as they are: those messages stay UCS-2."""
    out = []
    for char in text.translate(_STAND_INS):
        if char in GSM7_BASIC or char in GSM7_EXTENSION:
            out.append(char)
            continue
        base = unicodedata.normalize("NFKD", char)
        plain = "".join(c for c in base if not unicodedata.combining(c))
        out.append(plain if plain and all(c in GSM7_BASIC for c in plain) else char)
    return "".join(out)
