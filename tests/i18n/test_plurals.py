"""A message that shows a number of things takes the form the reader's language wants for
that number: Babel's plural rule of each catalog (six forms in Arabic, French singular
for 0 and 1), with the counted value isolated in right-to-left text."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.i18n import PLURALS, default_locales_dir, load_catalogs
from bot.i18n.bidi import LRI, PDI
from bot.i18n.status import catalog_status, po_path, read_catalog
from tests.i18n.test_status import edit


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [
        ("en", 1, "Your announcement is on its way to 1 member."),
        ("en", 4, "Your announcement is on its way to 4 members."),
        ("fr", 0, "Votre annonce part vers 0 membre."),
        ("fr", 2, "Votre annonce part vers 2 membres."),
        ("sw", 1, "Tangazo lako linatumwa kwa mwanachama 1."),
        ("sw", 7, "Tangazo lako linatumwa kwa wanachama 7."),
        ("ha", 3, "Ana aika sanarwarka ga mambobi 3."),
        ("ar", 2, f"إعلانك في الطريق إلى {LRI}2{PDI} عضوين."),
        ("ar", 3, f"إعلانك في الطريق إلى {LRI}3{PDI} أعضاء."),
        ("ar", 11, f"إعلانك في الطريق إلى {LRI}11{PDI} عضوًا."),
        ("ar", 102, f"إعلانك في الطريق إلى {LRI}102{PDI} عضو."),
    ],
)
def test_the_form_follows_the_count(language: str, count: int, expected: str) -> None:
    assert load_catalogs().text(language, "announce.sent", queued=count) == expected


def test_every_counted_message_is_a_plural_entry_with_every_form_of_each_language() -> None:
    for language in load_catalogs().languages:
        catalog = read_catalog(po_path(default_locales_dir(), language))
        for message_id in PLURALS:
            forms = catalog[message_id].string
            assert isinstance(forms, tuple) and len(forms) == catalog.num_plurals
            assert all(forms), (language, message_id)


def test_a_missing_form_makes_the_language_incomplete(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(default_locales_dir(), locales)

    def drop_a_form(catalog):  # type: ignore[no-untyped-def]
        forms = list(catalog["announce.sent"].string)
        forms[3] = ""
        catalog["announce.sent"].string = tuple(forms)

    edit(locales, "ar", drop_a_form)
    [status] = catalog_status(locales, ["ar"])
    assert status.missing == ["announce.sent"] and not status.complete
