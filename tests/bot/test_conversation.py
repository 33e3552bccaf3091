"""handle_inbound around the flows: duplicates, STOP and START, idle sessions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.conversation import EXPIRED, handle_inbound, purge_expired_sessions
from bot.messages import InboundMessage
from bot.models import ConversationSession, InboundReceipt, OutboxMessage
from bot.models.base import utcnow
from bot.services import Services
from tests.support import Person

MakePerson = Callable[..., Person]

STOPPED = "You will receive no more messages from Baraza"
WELCOME_BACK = "Welcome back: you will receive messages from Baraza again."
MAIN_MENU = "Welcome to Baraza, the community safety line"
STARTED_AGAIN = "We had not heard from you for a while, so we started again"
CATEGORIES = "Theft, burglary or robbery"


async def choose_english(person: Person) -> None:
    assert "Choose your language" in await person.send("ok")  # no telling which
    assert MAIN_MENU in await person.send("1")


async def session_of(person: Person) -> ConversationSession | None:
    contact = await person.contact()
    async with person.services.sessions() as db:
        return await db.get(ConversationSession, contact.id)


async def outbox_count(person: Person) -> int:
    contact = await person.contact()
    async with person.services.sessions() as db:
        return int(
            await db.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.contact_id == contact.id)
            )
            or 0
        )


async def test_a_message_delivered_twice_is_handled_once(
    person: Person, services: Services
) -> None:
    first = await person.send("ok", provider_id="wamid.1")
    assert "Choose your language" in first
    assert await person.send("ok", provider_id="wamid.1") == ""
    assert await outbox_count(person) == 1

    retry = InboundMessage(channel="console", urn=person.urn, provider_id="wamid.1", text="1")
    async with services.sessions() as db, db.begin():
        outcome = await handle_inbound(db, services.runtime, retry)
    assert outcome.duplicate and outcome.replies == 0
    async with services.sessions() as db:
        receipts = await db.scalar(
            select(func.count())
            .select_from(InboundReceipt)
            .where(InboundReceipt.provider_id == "wamid.1")
        )
    assert receipts == 1
    assert await outbox_count(person) == 1
    session = await session_of(person)
    assert session is not None and session.flow == "language"  # the "1" was not applied

    assert MAIN_MENU in await person.send("1", provider_id="wamid.2")  # a new id is handled


async def test_the_same_provider_id_on_another_channel_is_not_a_duplicate(
    person: Person, services: Services
) -> None:
    async with services.sessions() as db, db.begin():
        outcome = await handle_inbound(
            db,
            services.runtime,
            InboundMessage(channel="sms", urn="tel:+254700000001", provider_id="same-id"),
        )
    assert not outcome.duplicate
    assert "Choose your language" in await person.send("ok", provider_id="same-id")


async def go_to(person: Person, step: str) -> None:
    """Bring a person to a point of the conversation before they send STOP."""
    if step == "first message":
        return
    if step == "language prompt":
        await person.send("ok")
        return
    await choose_english(person)
    if step == "main menu":
        return
    assert CATEGORIES in await person.send("1")
    assert "Where did it happen" in await person.send("1")
    assert "Tell us briefly" in await person.send("Eastleigh")


@pytest.mark.parametrize(
    "step", ["first message", "language prompt", "main menu", "report description"]
)
@pytest.mark.parametrize("word", ["STOP", "unsubscribe"])
async def test_stop_at_any_step_confirms_once_and_ends_everything(
    person: Person, step: str, word: str
) -> None:
    await go_to(person, step)
    answer = await person.send(word)
    assert answer.startswith(STOPPED) and "---" not in answer  # one message only
    contact = await person.contact()
    assert contact.opted_out and contact.opted_out_at is not None
    assert await session_of(person) is None
    rows_after_stop = await outbox_count(person)

    for text in ("hello", "1", "menu", "help", "STOP", "Three shops were broken into."):
        assert await person.send(text) == "", text
    assert await outbox_count(person) == rows_after_stop  # nothing was even queued
    assert await session_of(person) is None
    assert (await person.contact()).opted_out
    assert await person.cases() == []


async def test_start_welcomes_back_and_the_conversation_resumes(person: Person) -> None:
    await choose_english(person)
    await person.send("1")
    assert STOPPED in await person.send("stop")

    answer = await person.send("START")
    assert answer.startswith(WELCOME_BACK)
    assert MAIN_MENU in answer  # a fresh conversation, in the language they chose
    contact = await person.contact()
    assert not contact.opted_out and contact.opted_out_at is None
    assert CATEGORIES in await person.send("1")
    assert "Where did it happen" in await person.send("1")


async def test_start_before_choosing_a_language_asks_for_it(person: Person) -> None:
    assert STOPPED in await person.send("stop")
    answer = await person.send("resume")
    assert WELCOME_BACK in answer and "Choose your language" in answer
    assert MAIN_MENU in await person.send("1")


async def test_start_while_subscribed_is_just_a_message(person: Person) -> None:
    await choose_english(person)
    answer = await person.send("start")
    assert WELCOME_BACK not in answer and answer != ""


async def test_french_stop_words_work_and_the_confirmation_is_in_french(
    person: Person,
) -> None:
    assert "Signaler une préoccupation" in await person.send("bonjour")
    answer = await person.send("Arrêt")
    assert answer.startswith("Vous ne recevrez plus de messages de Baraza")
    assert (await person.contact()).opted_out
    assert await person.send("bonjour") == ""
    back = await person.send("reprendre")
    assert back.startswith("Bon retour") and "Signaler une préoccupation" in back


@pytest.mark.parametrize("word", ["arret", "ARRETER", "desabonner"])
async def test_french_stop_words_work_for_anyone(person: Person, word: str) -> None:
    await choose_english(person)
    assert (await person.send(word)).startswith(STOPPED)
    assert (await person.contact()).opted_out


async def set_expiry(person: Person, when) -> None:  # type: ignore[no-untyped-def]
    contact = await person.contact()
    async with person.services.sessions() as db, db.begin():
        await db.execute(
            update(ConversationSession)
            .where(ConversationSession.contact_id == contact.id)
            .values(expires_at=when)
        )


async def purge(services: Services) -> int:
    async with services.sessions() as db, db.begin():
        return await purge_expired_sessions(db)


async def test_purge_scrubs_idle_sessions_and_leaves_live_ones(
    services: Services, make_person: MakePerson
) -> None:
    idle: Person = make_person()
    live: Person = make_person()
    for who in (idle, live):
        await choose_english(who)
        assert CATEGORIES in await who.send("1")
        assert "Where did it happen" in await who.send("1")
        await who.send("Eastleigh")
    before = await session_of(live)
    assert before is not None
    await set_expiry(idle, utcnow() - timedelta(minutes=1))

    assert await purge(services) == 1
    scrubbed = await session_of(idle)
    assert scrubbed is not None
    assert (scrubbed.flow, scrubbed.step, scrubbed.state) == (EXPIRED, EXPIRED, "{}")
    kept = await session_of(live)
    assert kept is not None and kept.flow == "report" and kept.state == before.state
    assert "Eastleigh" in kept.state  # the live answers are still there
    assert await purge(services) == 0  # already scrubbed

    answer = await idle.send("Someone stole my phone.")
    assert answer.startswith(STARTED_AGAIN) and MAIN_MENU in answer
    after = await session_of(idle)
    assert after is not None and after.flow == "menu" and after.expires_at > utcnow()
    assert "anonymous" in await live.send("Someone stole my phone.")
    assert await idle.cases() == [] and await live.cases() == []


async def test_an_expired_session_not_yet_purged_also_starts_again(person: Person) -> None:
    await choose_english(person)
    await person.send("1")
    await set_expiry(person, utcnow() - timedelta(seconds=1))
    answer = await person.send("1")
    assert answer.startswith(STARTED_AGAIN) and MAIN_MENU in answer
    assert CATEGORIES not in answer


async def test_purge_forgets_sessions_idle_for_over_a_week(
    services: Services, make_person: MakePerson
) -> None:
    old: Person = make_person()
    recent: Person = make_person()
    for who in (old, recent):
        await choose_english(who)
    await set_expiry(old, utcnow() - timedelta(days=8))
    await set_expiry(recent, utcnow() - timedelta(days=2))
    await purge(services)
    assert await session_of(old) is None
    recent_row = await session_of(recent)
    assert recent_row is not None and recent_row.flow == EXPIRED
    answer = await old.send("hello")  # forgotten: a plain fresh start
    assert STARTED_AGAIN not in answer and MAIN_MENU in answer
