"""A concern reported end to end, in English and French, through engine, outbox and sender."""

from __future__ import annotations

import re

from sqlalchemy import select, text

from bot.models import Case, Forum, OutboxMessage, StaffUser
from tests.support import Person

CODE = re.compile(r"\b([A-Z]{3}-[A-Z]{3})\b")


async def choose_english(person: Person) -> str:
    first = await person.send("ok")  # no telling which language: the menu
    assert "Choose your language" in first  # the other prompts as two SMS segments allow
    assert "1 English" in first and "2 Français" in first and "4 العربية" in first
    return await person.send("1")


async def test_english_report_is_routed_to_the_forum_that_covers_the_place(
    person: Person, services
) -> None:
    menu = await choose_english(person)
    assert "1 Report a concern" in menu
    assert "Theft, burglary or robbery" in await person.send("1")
    assert "Where did it happen" in await person.send("1")
    assert "Tell us briefly" in await person.send("eastley")  # a misspelling still matches
    assert "anonymous" in await person.send("Three shops were broken into on First Avenue.")
    summary = await person.send("1")
    assert "Eastleigh (Kamukunji)" in summary and "Stay anonymous" in summary
    done = await person.send("yes")
    code = CODE.search(done)
    assert code, done
    [case] = await person.cases()
    assert case.reference == code.group(1).replace("-", "")
    assert case.description == "Three shops were broken into on First Avenue."
    assert case.anonymous and case.reporter_name is None
    assert case.queue == "forum" and case.route_reason == "parent_coverage"
    async with services.sessions() as db:
        forum = await db.get(Forum, case.forum_id)
        assert forum is not None and forum.key == "eastleigh-cpf"
        notes = await db.execute(select(OutboxMessage).where(OutboxMessage.case_id == case.id))
        [note] = list(notes.scalars())
        staff = await db.get(StaffUser, note.staff_id)
        assert staff is not None and staff.email == "amina@baraza.example"
        assert code.group(1) in note.payload and "Eastleigh" in note.payload
        assert "First Avenue" not in note.payload and person.name not in note.payload


async def test_french_report_reaches_niamey_and_speaks_french_throughout(person: Person) -> None:
    menu = await person.send("bonjour")  # French, detected
    assert "Je vous réponds dans cette langue" in menu and "1 Signaler une préoccupation" in menu
    assert "Agression ou violence" in await person.send("1")
    assert "Où cela s'est-il passé" in await person.send("2")
    assert "Dites-nous" in await person.send("Gamkale")
    await person.send("Des jeunes ont été agressés près du marché.")
    assert "Quel nom" in await person.send("2")
    summary = await person.send("Fatouma")
    assert "Gamkalé (Niamey IV)" in summary and "Donner mon nom" in summary
    done = await person.send("oui")
    assert "Votre code de référence est" in done
    [case] = await person.cases()
    assert case.language == "fr" and not case.anonymous and case.reporter_name == "Fatouma"


async def test_narratives_and_addresses_are_encrypted_at_rest(person: Person, services) -> None:
    await choose_english(person)
    for answer in ("1", "1", "Eastleigh", "A very distinctive narrative about zebras.", "1", "1"):
        await person.send(answer)
    async with services.sessions() as db:
        raw = await db.execute(text("SELECT description FROM cases"))
        stored = [bytes(row[0]) for row in raw]
        urns = [bytes(r[0]) for r in await db.execute(text("SELECT urn FROM contacts"))]
    assert stored and all(b"zebras" not in blob for blob in stored)
    assert all(person.name.encode() not in blob for blob in urns)


async def test_shared_location_goes_to_the_nearest_forum_in_its_radius(person: Person) -> None:
    await choose_english(person)
    await person.send("1")
    await person.send("2")
    answer = await person.send(location=(3.7250, 34.8600))  # a few hundred metres from Kakuma
    assert "Tell us briefly" in answer
    await person.send("A fight at the water point.")
    assert "Kakuma" in await person.send("1")
    await person.send("1")
    [case] = await person.cases()
    assert case.route_reason == "location" and case.latitude == 3.725


async def test_place_no_forum_covers_lands_in_the_programme_queue(person: Person, services) -> None:
    await choose_english(person)
    for answer in ("1", "3", "Githurai", "Insults against refugees at the stage.", "1", "1"):
        await person.send(answer)
    [case] = await person.cases()
    assert case.queue == "programme" and case.forum_id is None
    async with services.sessions() as db:
        note = await db.scalar(select(OutboxMessage).where(OutboxMessage.case_id == case.id))
        assert note is not None
        admin = await db.get(StaffUser, note.staff_id)
        assert admin is not None and admin.role == "admin"
        assert "no forum covers" in note.payload


async def test_routing_rule_of_the_deployment_wins(person: Person, services) -> None:
    await choose_english(person)
    for answer in ("1", "7", "Ouallam", "Officers asked for money at the checkpoint.", "1", "1"):
        await person.send(answer)
    [case] = await person.cases()
    async with services.sessions() as db:
        forum = await db.get(Forum, case.forum_id)
    assert case.route_reason == "rule" and forum is not None and forum.key == "niamey-csc"


async def test_saying_no_at_the_confirmation_sends_nothing(person: Person, services) -> None:
    await choose_english(person)
    for answer in ("1", "1", "Pumwani", "Phone stolen at the bus stop."):
        await person.send(answer)
    await person.send("1")
    assert "Nothing was sent" in await person.send("no")
    assert await person.cases() == []
    async with services.sessions() as db:
        assert await db.scalar(select(Case.id)) is None


async def test_reference_codes_are_unique_and_unambiguous(make_person) -> None:
    codes = set()
    for _ in range(3):
        person = make_person()
        await choose_english(person)
        for answer in ("1", "1", "Eastleigh", "Bicycle stolen.", "1"):
            await person.send(answer)
        code = CODE.search(await person.send("1"))
        assert code
        codes.add(code.group(1))
    assert len(codes) == 3
    assert not any(set(c) & set("BILOSZ0125") for c in codes)
