"""A report and a protection request end to end in each of the eight languages of the demo,
the language chosen from the menu of languages (the report) or detected from a greeting
and saved (the protection request): every reply in that language (the catalog's own words
for each step), the case created, routed, and kept in the person's language."""

from __future__ import annotations

import re
import string

import pytest
import yaml
from sqlalchemy import select

from bot.i18n import load_catalogs
from bot.models import Forum, OutboxMessage, ProtectionUnit
from bot.services import Services
from tests.support import DEMO, Person

CODE = re.compile(r"([A-Z]{3}-[A-Z]{3})")
DEMO_DATA = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
LANGUAGES: list[str] = DEMO_DATA["deployment"]["languages"]
ENTRY_WORDS: dict[str, list[str]] = DEMO_DATA["protection"]["entry_words"]
THEFT = next(c for c in DEMO_DATA["categories"] if c["key"] == "theft")["names"]

# What each person types: a greeting, a place, what happened; the forum and the
# protection unit the place belongs to.
PEOPLE = {
    "en": ("hello", "Eastleigh", "Two shops were broken into last night.", "eastleigh-cpf"),
    "fr": ("bonjour", "Gamkalé", "On a volé deux motos devant la mosquée.", "niamey-csc"),
    "pt": ("olá", "Natite", "Roubaram duas bancas no mercado ontem.", "pemba-ccs"),
    "ar": ("مرحبا", "Kakuma", "سرقوا متجرين في السوق الليلة الماضية.", "kakuma-cpf"),
    "ckb": ("سڵاو", "Kakuma", "دوێنێ شەو دوو دوکانیان لە بازاڕ دزی.", "kakuma-cpf"),
    "so": ("nabad", "Eastleigh", "Xalay laba dukaan ayaa la jabsaday.", "eastleigh-cpf"),
    "sw": ("habari", "Pumwani", "Maduka mawili yalivunjwa usiku wa jana.", "eastleigh-cpf"),
    "ha": ("sannu", "Gamkale", "An fasa shaguna biyu a kasuwa jiya da dare.", "niamey-csc"),
}
UNIT_PLACE = {"fr": "Gamkalé", "ha": "Gamkale", "en": "Eastleigh", "so": "Eastleigh"}


def says(reply: str, language: str, message_id: str) -> None:
    """The reply carries the catalog's words for ``message_id`` in ``language``: each
    literal piece of the text between its placeholders."""
    raw = load_catalogs().raw(language, message_id)
    pieces = [literal for literal, *_ in string.Formatter().parse(raw)]
    for piece in filter(None, (p.strip() for p in pieces)):
        assert piece in reply, f"{language} {message_id}: {piece!r} not in {reply!r}"


def yes(language: str) -> str:
    return load_catalogs().words(language, "keyword.yes")[0]


async def greet(person: Person, language: str) -> None:
    """A greeting, answered in its language at once: no language menu."""
    menu = await person.send(PEOPLE[language][0])
    says(menu, language, "language.detected_hint")
    says(menu, language, "menu.prompt")
    says(menu, language, "menu.report")


async def choose(person: Person, language: str) -> None:
    """A first message no detector can place ("ok"): the menu of languages, each in its
    own language, and the person picks theirs by number."""
    menu = await person.send("ok")
    position = LANGUAGES.index(language) + 1
    assert f"{position} {load_catalogs().text(language, 'language.name')}" in menu
    chosen = await person.send(str(position))
    says(chosen, language, "language.changed")
    says(chosen, language, "menu.prompt")
    says(chosen, language, "menu.report")


def test_every_language_has_a_person() -> None:
    assert sorted(PEOPLE) == sorted(LANGUAGES) and len(LANGUAGES) == 8


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_report_in_each_language(person: Person, services: Services, language: str) -> None:
    """Chosen from the menu of languages."""
    _, place, narrative, forum_key = PEOPLE[language]
    await choose(person, language)
    categories = await person.send("1")
    says(categories, language, "report.ask_category")
    assert f"1 {THEFT[language]}" in categories  # the deployment's name in their language
    says(await person.send("1"), language, "report.ask_area")
    says(await person.send(place), language, "report.ask_description")
    says(await person.send(narrative), language, "report.ask_anonymity")
    summary = await person.send("1")
    says(summary, language, "report.confirm")
    assert narrative in summary and THEFT[language] in summary
    done = await person.send(yes(language))
    says(done, language, "report.done")
    code = CODE.search(done)
    assert code, done
    [case] = await person.cases()
    assert case.reference == code.group(1).replace("-", "")
    assert (case.language, case.queue, case.description) == (language, "forum", narrative)
    async with services.sessions() as db:
        forum = await db.get(Forum, case.forum_id)
        assert forum is not None and forum.key == forum_key
        noted = await db.scalar(select(OutboxMessage.id).where(OutboxMessage.case_id == case.id))
        assert noted is not None  # the forum's focal point is told


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_protection_request_in_each_language(
    person: Person, services: Services, language: str
) -> None:
    """The language detected from the greeting carries into the discreet word's
    conversation."""
    await greet(person, language)
    asked = await person.send(ENTRY_WORDS[language][0])
    says(asked, language, "protect.ask_safe")
    says(await person.send("1"), language, "protect.ask_help")
    says(await person.send("5"), language, "protect.ask_area")  # police protection
    place = UNIT_PLACE.get(language, "Pumwani")
    says(await person.send(place), language, "protect.ask_description")
    says(await person.send(PEOPLE[language][2]), language, "protect.ask_contact")
    consent = await person.send("1")  # do not contact me
    says(consent, language, "protect.consent_unit")
    done = await person.send(yes(language))
    says(done, language, "protect.referred")
    code = CODE.search(done)
    assert code, done
    [case] = await person.cases()
    assert (case.kind, case.queue, case.language, case.help_type) == (
        "protection", "unit", language, "police",
    )  # fmt: skip
    async with services.sessions() as db:
        unit = await db.get(ProtectionUnit, case.unit_id)
    expected = "niamey-protection" if place.startswith("Gam") else "nairobi-gbv"
    assert unit is not None and unit.key == expected


@pytest.mark.parametrize("language", LANGUAGES)
async def test_quick_exit_stop_and_start_in_each_language(
    person: Person, services: Services, language: str
) -> None:
    """The language's own words: leave the protection flow at once, stop every message,
    come back; each answer in that language."""
    catalogs = load_catalogs()
    first = {k: catalogs.words(language, f"keyword.{k}")[0] for k in ("quick_exit", "stop")}
    await greet(person, language)
    await person.send(ENTRY_WORDS[language][0])
    await person.send("1")  # safe to talk
    assert await person.send(first["quick_exit"]) == catalogs.text(language, "protect.neutral")
    assert await person.cases() == []
    says(await person.send(first["stop"].upper()), language, "optout.confirmed")
    assert (await person.contact()).opted_out
    says(
        await person.send(catalogs.words(language, "keyword.start")[0]), language, "optout.resumed"
    )
