"""Checking a concern by its code: the reporter's own codes only, no leak about others'."""

from __future__ import annotations

import re

from sqlalchemy import update

from bot.models import Case
from tests.support import Person

CODE = re.compile(r"\b([A-Z]{3}-[A-Z]{3})\b")


async def report(person: Person, greeting: str = "hi") -> str:
    await person.send(greeting)  # its language is detected
    for answer in ("1", "1", "Eastleigh", "Shop broken into.", "1"):
        await person.send(answer)
    found = CODE.search(await person.send("1"))
    assert found
    return found.group(1)


async def test_own_code_shows_the_status(person: Person, services) -> None:
    code = await report(person)
    await person.send("menu")
    assert "Send the reference code" in await person.send("2")
    answer = await person.send(code.lower().replace("-", " "))
    assert f"Concern {code}" in answer and "received, waiting to be read" in answer
    async with services.sessions() as db, db.begin():
        await db.execute(update(Case).values(status="in_progress"))
    await person.send("menu")
    await person.send("2")
    assert "being handled" in await person.send(code)


async def test_french_status_with_a_date_in_french(person: Person) -> None:
    code = await report(person, greeting="bonjour")
    await person.send("menu")
    await person.send("2")
    answer = await person.send(code)
    assert f"Signalement {code}" in answer and "reçu, en attente de lecture" in answer
    assert re.search(r"\d{4}", answer)


async def test_someone_elses_code_looks_exactly_like_a_code_that_does_not_exist(
    make_person,
) -> None:
    reporter, stranger = make_person(), make_person()
    code = await report(reporter)
    await stranger.send("hi")
    await stranger.send("2")
    theirs = await stranger.send(code)
    await stranger.send("menu")
    await stranger.send("2")
    nobody = await stranger.send("QQQ-QQQ")
    assert theirs == nobody and "found no concern" in theirs


async def test_a_malformed_code_is_explained(person: Person) -> None:
    await person.send("hi")
    await person.send("2")
    answer = await person.send("12345")
    assert "six letters" in answer and "Send the reference code" in answer
