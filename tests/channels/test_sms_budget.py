"""What a report costs in SMS stays within its budget: a longer text, a new accent that
turns a reply into UCS-2, or an extra message fails here, not on someone's phone bill."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.sms_cost import BUDGET, SCRIPTS, conversation, segments
from bot.settings import generate_key


@pytest.mark.parametrize("language", sorted(SCRIPTS))
async def test_a_report_over_sms_stays_within_its_segment_budget(
    language: str, tmp_path: Path
) -> None:
    replies = await conversation(language, generate_key(), tmp_path)
    plain, _ = segments(replies, gsm7_only=False)
    folded, ucs2 = segments(replies, gsm7_only=True)
    assert plain <= BUDGET[language], f"{language}: {plain} segments, budget {BUDGET[language]}"
    assert ucs2 == 0  # GSM-7 only leaves nothing in UCS-2
    assert folded <= plain
