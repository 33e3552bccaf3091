"""The language menu names every language, and its prompt keeps to two SMS segments."""

from __future__ import annotations

from bot.i18n import load_catalogs
from bot.i18n.language_menu import MAX_SEGMENTS, language_prompt
from bot.messages import Choice, OutboundMessage
from channels.base import numbered_menu
from channels.sms_segments import count_segments

EIGHT = ["en", "fr", "pt", "ar", "ckb", "so", "sw", "ha"]


def menu(languages: list[str]) -> tuple[str, str]:
    catalogs = load_catalogs()
    choices = tuple(Choice(code, catalogs.text(code, "language.name")) for code in languages)
    prompt = language_prompt([catalogs.text(c, "language.prompt") for c in languages], choices)
    return prompt, numbered_menu(OutboundMessage(text=prompt, choices=choices))


def test_three_languages_keep_every_prompt() -> None:
    prompt, _ = menu(["en", "fr", "pt"])
    assert prompt == "Choose your language:\nChoisissez votre langue :\nEscolha a sua língua:"


def test_eight_languages_keep_what_two_segments_hold_and_name_every_language() -> None:
    prompt, rendered = menu(EIGHT)
    assert prompt == "Choose your language:"
    assert count_segments(rendered).count == MAX_SEGMENTS
    names = ["English", "Français", "Português", "العربية", "کوردی سۆرانی", "Soomaali",
             "Kiswahili", "Hausa"]  # fmt: skip
    assert rendered.endswith("\n".join(f"{n} {name}" for n, name in enumerate(names, 1)))


def test_the_first_language_s_prompt_stays_even_when_nothing_fits() -> None:
    many = [Choice(str(n), "x" * 60) for n in range(5)]
    assert language_prompt(["Pick:", "Choisir :"], many) == "Pick:"
    assert language_prompt(["Same", "Same", "Other"], []) == "Same\nOther"
