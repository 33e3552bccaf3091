"""The first message decides the language, end to end through the signed SMS webhook:
confident, an answer in that language with a line on how to change it; unsure, the
menu of languages; a chosen language is never overridden; LANGUAGE mid-report asks
again and goes back to the same question.

The deployment speaks every language that has a catalog, so a language gains this
test the day its catalog lands.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from bot import privacy
from bot.i18n import load_catalogs
from bot.models import ConversationSession
from bot.models.base import utcnow
from bot.services import Services
from tests import support
from tests.channels.test_twilio import Phone, World, fake_twilio, twilio_settings
from tests.fakes.twilio_api import FakeTwilio

__all__ = ["fake_twilio"]  # the fake Twilio server fixture, shared with the channel tests

CATALOGS = load_catalogs()
LANGUAGES = [
    lang for lang in ("en", "fr", "pt", "sw", "so", "ha", "ar", "ckb") if lang in CATALOGS.languages
]
# A first message per language, as people send them (not from the detection corpus).
FIRST = {
    "en": "hello, someone stole my phone at the market",
    "fr": "bonjour on a volé ma moto hier soir",
    "pt": "bom dia, roubaram a minha bicicleta ontem",
    "sw": "habari, simu yangu imeibiwa sokoni",
    "so": "nabad, taleefankayga waa la xaday",
    "ha": "sannu, an sace min keke jiya",
    "ar": "السلام عليكم انسرقت سيارتي",
    "ckb": "سڵاو، ئۆتۆمبێلەکەم دزرا",
}


def every_language(data: dict[str, Any]) -> None:
    data["deployment"]["languages"] = LANGUAGES


@pytest.fixture(scope="module")
async def i18n_app(
    backend: str, fake_twilio: FakeTwilio, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    tmp = tmp_path_factory.mktemp(f"i18n-{backend}")
    deployment = support.demo_with(tmp, every_language)
    async with support.serving(backend, tmp, deployment, **twilio_settings(fake_twilio)) as app:
        yield app


@pytest.fixture
async def world(i18n_app: FastAPI, fake_twilio: FakeTwilio) -> AsyncIterator[World]:
    services: Services = i18n_app.state.services
    privacy.configure(services.settings.resolve_data_key())
    await support.wipe_activity(services)
    fake_twilio.reset()
    transport = httpx.ASGITransport(app=i18n_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5:8000") as client:
        yield World(services, fake_twilio, client)


def said(language: str, message_id: str) -> str:
    return CATALOGS.text(language, message_id)


async def expire(world: World, phone: Phone) -> None:
    """The conversation goes idle: the next message starts a new one."""
    contact = await phone.contact()
    assert contact is not None
    async with world.services.sessions() as db, db.begin():
        await db.execute(
            update(ConversationSession)
            .where(ConversationSession.contact_id == contact.id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_first_message_is_answered_in_its_language_with_a_hint(
    world: World, language: str
) -> None:
    phone = Phone(world)
    await phone.text(FIRST[language])
    [reply] = await phone.replies()
    assert reply.startswith(said(language, "language.detected_hint")), reply
    assert said(language, "menu.report") in reply  # the main menu, in that language
    assert said("en", "language.prompt") not in reply  # no menu of languages
    contact = await phone.contact()
    assert contact is not None and contact.language == language and contact.language_detected


async def test_an_ambiguous_first_message_gets_the_menu_of_languages(world: World) -> None:
    phone = Phone(world)
    await phone.text("ok")
    [menu] = await phone.replies()
    for language in LANGUAGES:  # each option written in its own language
        assert said(language, "language.name") in menu
    contact = await phone.contact()
    assert contact is not None and contact.language is None


async def test_a_chosen_language_beats_detection(world: World) -> None:
    phone = Phone(world)
    await phone.text("ok")
    await phone.replies()
    await phone.text(str(LANGUAGES.index("fr") + 1))  # Français, from the menu
    assert said("fr", "menu.report") in await phone.last()
    await expire(world, phone)
    await phone.text("hello, my phone was stolen last night")  # English, yet:
    answer = await phone.last()
    assert said("fr", "menu.report") in answer and said("en", "menu.report") not in answer
    contact = await phone.contact()
    assert contact is not None and contact.language == "fr" and not contact.language_detected


async def test_a_detected_language_is_detected_again_when_a_conversation_starts(
    world: World,
) -> None:
    phone = Phone(world)
    await phone.text("bonjour")
    assert said("fr", "menu.report") in await phone.last()
    await phone.text("hello, my phone was stolen")  # mid-conversation: not a new guess
    assert said("en", "menu.report") not in await phone.last()
    await expire(world, phone)
    await phone.text("hello, my phone was stolen at the market last night")
    answer = await phone.last()
    assert said("en", "language.detected_hint") in answer and said("en", "menu.report") in answer
    contact = await phone.contact()
    assert contact is not None and contact.language == "en" and contact.language_detected


async def test_language_mid_report_asks_again_and_resumes_the_same_question(
    world: World,
) -> None:
    phone = Phone(world)
    await phone.text("hello")
    await phone.replies()
    await phone.text("1")  # report a concern
    await phone.text("1")  # theft
    assert said("en", "report.ask_area").split("?")[0] in await phone.last()
    await phone.text("lingua")  # the Portuguese word, from an English conversation
    menu = await phone.last()  # asked in the current language, each option in its own
    assert said("en", "language.prompt") in menu and said("pt", "language.name") in menu
    await phone.text(str(LANGUAGES.index("pt") + 1))
    answer = await phone.last()
    assert said("pt", "language.changed") in answer
    assert said("pt", "report.ask_area").split("?")[0] in answer  # the same question
    await phone.text("Eastleigh")
    assert said("pt", "report.ask_description").split(".")[0] in await phone.last()
    contact = await phone.contact()
    assert contact is not None and contact.language == "pt" and not contact.language_detected


@pytest.mark.parametrize(
    ("first", "language", "expected"),
    [
        ("HELP", "en", "help.keywords"),  # a keyword, and English
        ("tournesol", "fr", "protect.ask_safe"),  # the discreet word of the French list
    ],
)
async def test_keyword_first_messages_still_work(
    world: World, first: str, language: str, expected: str
) -> None:
    phone = Phone(world)
    await phone.text(first)
    answer = "\n".join(await phone.replies())
    assert said(language, "language.detected_hint") in answer
    assert said(language, expected).split("\n")[0][:40] in answer


async def test_stop_as_a_first_message_stops(world: World) -> None:
    phone = Phone(world)
    await phone.text("STOP")
    assert said("en", "optout.confirmed")[:40] in await phone.last()
    contact = await phone.contact()
    assert contact is not None and contact.opted_out
