"""The language menu's prompt: in as many languages as two SMS segments hold.

Before a person has chosen a language, the menu asks "Choose your language:" in
the deployment's languages, and each option names its language in that language
("Français", "العربية"). With three languages all the prompts fit in two SMS
segments; with eight, the prompts alone would double the cost of the first
message someone receives (Arabic script makes it UCS-2: 67 characters a
segment). So the prompt keeps the deployment's languages in order while the
numbered menu, as the SMS channel renders it, stays within ``MAX_SEGMENTS``; the
options always name every language, so nobody loses their way in.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages import Choice, OutboundMessage
from channels.base import numbered_menu
from channels.sms_segments import count_segments

MAX_SEGMENTS = 2


def language_prompt(prompts: Sequence[str], choices: Sequence[Choice]) -> str:
    """The prompt lines (one per language, deployment order, repeats dropped) that fit."""
    lines = list(dict.fromkeys(prompts))
    kept = lines[:1]
    for line in lines[1:]:
        candidate = "\n".join([*kept, line])
        rendered = numbered_menu(OutboundMessage(text=candidate, choices=tuple(choices)))
        if count_segments(rendered).count > MAX_SEGMENTS:
            break
        kept.append(line)
    return "\n".join(kept)
