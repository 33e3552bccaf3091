"""What a report costs in SMS stays within its budget, in each of the eight languages: a
longer text, a new accent that turns a reply into UCS-2, or an extra message fails here,
not on someone's phone bill."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.sms_cost import BUDGET, SCRIPTS, bodies, conversation, segments
from bot.settings import generate_key
from channels.sms_segments import count_segments

ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff]")


def test_every_language_of_the_demo_has_a_script_and_a_budget() -> None:
    assert set(SCRIPTS) == set(BUDGET) == {"en", "fr", "pt", "ar", "ckb", "so", "sw", "ha"}


@pytest.mark.parametrize("language", sorted(SCRIPTS))
async def test_a_report_over_sms_stays_within_its_segment_budget(
    language: str, tmp_path: Path
) -> None:
    replies = await conversation(language, generate_key(), tmp_path)
    assert "-" in replies[-1].text and replies[-1].language == language  # the code, in theirs
    plain, _ = segments(replies, gsm7_only=False)
    folded, _ = segments(replies, gsm7_only=True)
    assert plain <= BUDGET[language], f"{language}: {plain} segments, budget {BUDGET[language]}"
    assert folded <= plain
    # GSM-7 only leaves in UCS-2 nothing but Arabic script, which has no Latin stand-in:
    # every Arabic or Kurdish reply. The greeting's language is detected, so nobody sees
    # the language menu (whose names of Arabic and Kurdish would be UCS-2 too).
    ucs2 = [b for b in bodies(replies, gsm7_only=True) if count_segments(b).encoding == "UCS-2"]
    assert all(ARABIC_SCRIPT.search(body) for body in ucs2), ucs2
    if language not in ("ar", "ckb"):
        assert ucs2 == []
