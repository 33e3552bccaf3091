"""Codes, numbers and Latin words stay readable inside right-to-left text.

In an Arabic or Kurdish sentence, a reference code such as KXM-PRT, a phone number
or a date with digits is an island of left-to-right text. Left alone, the Unicode
bidirectional algorithm lets the neutral characters around it (hyphens, colons,
spaces, brackets) join the wrong side, and "KXM-PRT." or "1195 / 999" can come
out reordered. Wrapping the island in isolation marks (LRI or FSI ... PDI) keeps
it whole and in place, on every phone that implements Unicode 6.3 or later.

Catalogs never carry these marks: translators write plain text, and
``Catalogs.text`` wraps each placeholder's value here, at render time, when the
language is written right to left.
"""

from __future__ import annotations

import unicodedata

LRI = "\u2066"  # left-to-right isolate: the value is left-to-right (a code, a number)
FSI = "\u2068"  # first-strong isolate: the value says its own direction (mixed text)
PDI = "\u2069"  # pop directional isolate: the end of either
_RTL = {"R", "AL"}
_LTR_OR_NUMBER = {"L", "EN", "AN"}


def isolate(value: str) -> str:
    """``value`` ready to sit inside right-to-left text, one line at a time (a line
    break ends any isolate, so a list of numbers is wrapped line by line).

    A line with Latin letters or digits and no right-to-left letter is wrapped in
    LRI ... PDI; a line mixing both in FSI ... PDI, so its first strong letter
    decides; a line of right-to-left words only (or of neither) is left as it is.
    """
    return "\n".join(_isolate_line(line) for line in value.split("\n"))


def _isolate_line(line: str) -> str:
    kinds = {unicodedata.bidirectional(char) for char in line}
    if not kinds & _LTR_OR_NUMBER:
        return line
    return (FSI if kinds & _RTL else LRI) + line + PDI
