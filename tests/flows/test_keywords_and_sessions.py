"""Global keywords at every step, language switching mid-conversation, expiry and help."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.models import ConversationSession
from bot.models.base import utcnow
from tests.support import Person


async def english_report_started(person: Person) -> None:
    await person.send("hi")  # English, detected
    await person.send("1")


async def test_menu_works_at_any_step(person: Person) -> None:
    await english_report_started(person)
    await person.send("1")
    answer = await person.send("MENU")
    assert "1 Report a concern" in answer


async def test_back_returns_to_the_previous_question(person: Person) -> None:
    await english_report_started(person)
    assert "Where did it happen" in await person.send("1")
    answer = await person.send("back")
    assert "What is your concern about" in answer
    answer = await person.send("back")
    assert "1 Report a concern" in answer  # back across flows, into the menu
    answer = await person.send("back")  # the language was detected, never asked
    assert "no earlier question" in answer and "1 Report a concern" in answer


async def test_help_answers_and_asks_the_same_question_again(person: Person) -> None:
    await english_report_started(person)
    answer = await person.send("help")
    assert "MENU" in answer and "STOP" in answer and "What is your concern about" in answer


async def test_language_switch_mid_report_continues_where_it_was(person: Person) -> None:
    await english_report_started(person)
    await person.send("1")  # theft; now asked where
    answer = await person.send("language")
    assert "Choose your language" in answer and "2 Français" in answer
    answer = await person.send("2")
    assert "Je vous répondrai dans cette langue" in answer and "Où cela s'est-il passé" in answer
    assert "Dites-nous" in await person.send("Eastleigh")
    contact = await person.contact()
    assert contact.language == "fr"


async def test_french_keywords_work_for_everyone(person: Person) -> None:
    await english_report_started(person)
    assert "2 Français" in await person.send("langue")
    await person.send("1")
    assert "1 Report a concern" in await person.send("accueil")


async def test_an_expired_session_starts_again_politely(person: Person, services) -> None:
    await english_report_started(person)
    await person.send("1")
    contact = await person.contact()
    async with services.sessions() as db, db.begin():
        await db.execute(
            update(ConversationSession)
            .where(ConversationSession.contact_id == contact.id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    answer = await person.send("Eastleigh")
    assert "we started again" in answer and "1 Report a concern" in answer


async def test_help_flow_from_the_menu(person: Person) -> None:
    await person.send("hi")
    answer = await person.send("4")
    assert "community safety line" in answer and "never shown" in answer and "STOP" in answer


async def test_change_language_from_the_menu_returns_to_the_menu(person: Person) -> None:
    await person.send("hi")
    assert "2 Français" in await person.send("5")
    answer = await person.send("Français")
    assert "Bienvenue sur Baraza" in answer
