"""Codes and numbers inside Arabic and Kurdish texts are isolated at render time, exactly
so, and nothing changes for languages written left to right."""

from __future__ import annotations

import pytest

from bot.i18n import load_catalogs
from bot.i18n.bidi import FSI, LRI, PDI, isolate


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("KXM-PRT", f"{LRI}KXM-PRT{PDI}"),
        ("1195", f"{LRI}1195{PDI}"),
        ("كاكوما", "كاكوما"),  # right-to-left words only: nothing to keep in order
        ("مخيم Kakuma 2", f"{FSI}مخيم Kakuma 2{PDI}"),  # mixed: its first letter decides
        ("Police: 999\n\nشرطة", f"{LRI}Police: 999{PDI}\n\nشرطة"),  # line by line
        ("", ""),
    ],
)
def test_isolate_wraps_each_line_by_what_it_holds(value: str, expected: str) -> None:
    assert isolate(value) == expected


def test_a_reference_code_in_arabic_is_isolated_where_it_is_rendered() -> None:
    text = load_catalogs().text("ar", "status.found", reference="KXM-PRT", category_label="سرقة",
                                reported_on="5 ديسمبر 2026", status="مغلق")  # fmt: skip
    assert text == (f"البلاغ {LRI}KXM-PRT{PDI} (سرقة)، بتاريخ {FSI}5 ديسمبر 2026{PDI}: مغلق.")


def test_emergency_numbers_in_kurdish_are_isolated_one_line_at_a_time() -> None:
    numbers = "Kenya\nNational GBV helpline: 1195\nPolice emergency: 999"
    text = load_catalogs().text("ckb", "protect.emergency", numbers=numbers)
    assert text == (
        "ئێستا پەیوەندی بکە بۆ یارمەتی:\n"
        f"{LRI}Kenya{PDI}\n{LRI}National GBV helpline: 1195{PDI}\n{LRI}Police emergency: 999{PDI}"
        "\n\nکاتێک سەلامەت بوویت، دەتوانیت لێرە بەردەوام بیت."
    )


def test_a_count_is_isolated_too_and_left_to_right_languages_get_no_marks() -> None:
    catalogs = load_catalogs()
    assert catalogs.text("ar", "common.invalid_choice", count=8) == (
        f"عذرًا، لم أفهم. أرسل رقمًا من 1 إلى {LRI}8{PDI}."
    )
    for language in ("en", "fr", "pt", "so", "sw", "ha"):
        text = catalogs.text(language, "report.done", reference="KXM-PRT")
        assert "KXM-PRT" in text and not {LRI, FSI, PDI} & set(text)
