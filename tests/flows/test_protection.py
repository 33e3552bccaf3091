"""The protection flow end to end on the console channel, on SQLite and PostgreSQL:
safety first, a quick exit at every step, consent before any referral, nothing kept
that is not needed, and a notification that says only that a case exists."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.models import (
    Case,
    CaseMessage,
    ConversationSession,
    OutboxMessage,
    ProtectionCount,
    ProtectionUnit,
    StaffUser,
)
from bot.services import Services
from tests.support import Person, count_rows

CODE = re.compile(r"\b([A-Z]{3}-[A-Z]{3})\b")
NARRATIVE = "He hit me again on Tuesday near the water point in Eastleigh."
NEUTRAL = "Thank you. Have a good day."


async def enter(person: Person, how: str = "menu") -> str:
    """Open the protection flow in English, from the main menu or by the discreet word."""
    menu = await person.send("hello")  # English, detected
    assert "3 Private support" in menu
    asked = await person.send("3" if how == "menu" else "sunflower")
    assert "Send X at any time to leave" in asked and "Are you safe to talk now?" in asked
    return asked


async def answer_all(person: Person, *, consent: str, help_choice: str = "1") -> str:
    """Safe; help; Eastleigh; the narrative; contact in this chat, after 2 pm; consent."""
    assert "What help would you like?" in await person.send("1")
    assert "Where are you" in await person.send(help_choice)
    assert "what happened" in await person.send("Eastleigh")
    assert "Would you like to be contacted?" in await person.send(NARRATIVE)
    assert "When is it safe to contact you?" in await person.send("2")
    consent_question = await person.send("weekdays after 2 pm")
    assert "Nairobi Gender and Protection Desk will receive" in consent_question
    assert "not the community forum" in consent_question
    return await person.send(consent)


async def unit_notifications(services: Services) -> list[tuple[str, str]]:
    async with services.sessions() as db:
        rows = await db.execute(
            select(StaffUser.email, OutboxMessage.payload)
            .join(StaffUser, StaffUser.id == OutboxMessage.staff_id)
            .where(OutboxMessage.kind == "notification")
            .order_by(OutboxMessage.id)
        )
        return [(email, payload) for email, payload in rows.all()]


async def sessions_of(services: Services) -> int:
    return await count_rows(services, ConversationSession)


async def test_from_the_menu_or_a_discreet_word(person: Person) -> None:
    await enter(person, "menu")
    other = Person(person.services, person.channel)
    await enter(other, "word")


async def test_not_safe_now_says_how_to_come_back_and_keeps_nothing(
    person: Person, services: Services
) -> None:
    await enter(person)
    answer = await person.send("2")
    assert "Nothing was kept" in answer and "write SUNFLOWER to start again" in answer
    assert await person.cases() == []
    assert await count_rows(services, ProtectionCount) == 0
    assert await sessions_of(services) == 0


async def test_in_danger_the_emergency_numbers_come_first(person: Person) -> None:
    await enter(person)
    answer = await person.send("3")
    numbers_at = answer.index("Call for help now")
    assert numbers_at < answer.index("What help would you like?")
    # Nobody knows where she is yet: each country's numbers, under the country's name.
    assert "Kenya\nNational GBV helpline: 1195\nPolice emergency: 999" in answer
    assert "Niger\nPolice secours: 17" in answer


STEPS = ["1", "1", "Eastleigh", NARRATIVE, "2", "after 2 pm"]  # answers, in order


@pytest.mark.parametrize("answered", range(len(STEPS) + 1))
async def test_the_quick_exit_works_at_every_step_and_keeps_nothing(
    person: Person, services: Services, answered: int
) -> None:
    await enter(person)
    for answer in STEPS[:answered]:
        await person.send(answer)
    assert await person.send("x") == NEUTRAL
    assert await person.cases() == []
    assert await count_rows(services, ProtectionCount) == 0
    assert await sessions_of(services) == 0
    async with services.sessions() as db:
        kept = await db.scalars(select(OutboxMessage.payload))
        assert not any(NARRATIVE in payload for payload in kept)
    # The word works in any deployment language, at any case.
    await enter(Person(services, person.channel))


async def test_quick_exit_in_another_language_also_works(person: Person) -> None:
    await enter(person)
    await person.send("1")
    assert await person.send("SORTIR") == NEUTRAL


async def test_without_consent_no_referral_the_directory_and_an_anonymous_count(
    person: Person, services: Services
) -> None:
    await enter(person)
    answer = await answer_all(person, consent="no")
    assert "Nothing was shared" in answer
    assert "National GBV helpline: 1195" in answer
    assert "Women's safe space, Kamukunji (0700 000 321)" in answer
    assert await person.cases() == []
    assert await unit_notifications(services) == []
    async with services.sessions() as db:
        [count] = (await db.scalars(select(ProtectionCount))).all()
    assert (count.outcome, count.help_type) == ("no_consent", "health")
    assert count.area_id is not None
    assert await sessions_of(services) == 0


async def test_with_consent_a_referral_to_the_unit_with_a_content_free_notification(
    person: Person, services: Services
) -> None:
    await enter(person)
    answer = await answer_all(person, consent="yes", help_choice="3")  # legal advice
    assert "refer you to a service for: Legal advice" in answer
    done = await person.send("yes")
    code = CODE.search(done)
    assert code and "in confidence" in done, done
    [case] = await person.cases()
    async with services.sessions() as db:
        unit = await db.get(ProtectionUnit, case.unit_id)
    assert unit is not None and unit.key == "nairobi-gbv"
    assert (case.kind, case.queue, case.help_type) == ("protection", "unit", "legal")
    assert case.consent_service is True and case.forum_id is None
    assert case.description == NARRATIVE
    assert (case.contact_method, case.contact_time) == ("this_chat", "weekdays after 2 pm")
    notified = await unit_notifications(services)
    # Grace is marked female: she alone is told, not Daniel.
    assert [email for email, _ in notified] == ["grace@baraza.example"]
    text = notified[0][1]
    assert code.group(1) in text and "Eastleigh" in text
    for secret in ("Gender", "violence", "hit me", "Legal", "legal"):
        assert secret not in text
    async with services.sessions() as db:
        [count] = (await db.scalars(select(ProtectionCount))).all()
    assert count.outcome == "referred"
    assert await sessions_of(services) == 0  # the answers did not outlive the case


async def test_every_question_can_be_skipped(person: Person, services: Services) -> None:
    await enter(person)
    await person.send("1")
    assert "Where are you" in await person.send("skip")
    assert "what happened" in await person.send("skip")
    assert "Would you like to be contacted?" in await person.send("skip")
    answer = await person.send("skip")
    # With no place, no unit can be chosen: the directory, and only a count.
    assert "Nothing was shared" in answer and "Police secours: 17" in answer
    assert await person.cases() == []
    async with services.sessions() as db:
        [count] = (await db.scalars(select(ProtectionCount))).all()
    assert (count.outcome, count.area_id, count.help_type) == ("no_unit", None, None)


async def test_consent_can_be_withdrawn_with_the_code(person: Person, services: Services) -> None:
    await enter(person)
    done = await answer_all(person, consent="yes", help_choice="5")  # police: one consent
    code = CODE.search(done)
    assert code, done
    await person.send("menu")
    await person.send("2")
    found = await person.send(code.group(1))
    assert f"Your request {code.group(1)}" in found and "Gender" not in found
    assert "Done: your request will not be shared" in await person.send("2")
    [case] = await person.cases()
    assert case.consent_withdrawn_at is not None
    async with services.sessions() as db:
        events = (
            await db.scalars(select(CaseMessage.body).where(CaseMessage.direction == "event"))
        ).all()
    assert events == ["consent withdrawn"]
    notified = [text for _, text in await unit_notifications(services)]
    assert any("Consent withdrawn" in text and code.group(1) in text for text in notified)


async def test_the_narrative_is_never_in_plaintext_on_disk_or_in_the_logs(
    person: Person, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await enter(person)
    await answer_all(person, consent="yes", help_choice="5")
    assert len(await person.cases()) == 1
    assert NARRATIVE not in caplog.text
    url = services.settings.database_url
    if url.startswith("sqlite"):
        await services.engine.dispose()  # everything checkpointed into the files
        database = Path(url.removeprefix("sqlite:///"))
        for path in (database, Path(f"{database}-wal")):
            if path.exists():
                assert NARRATIVE.encode() not in path.read_bytes()
                assert b"weekdays after 2 pm" not in path.read_bytes()
    async with services.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Case)) == 1
