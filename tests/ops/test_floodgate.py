"""A flood from one number slows that number only: the first messages of the minute are
handled, then one "slow down" notice, then silence until the minute is over; STOP still
works; everyone else is answered as usual; every message is acknowledged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.contacts import urn_hash
from bot.models import Contact, InboundReceipt
from bot.models.base import utcnow
from bot.services import Services
from bot.urns import parse
from tests.channels.test_telegram import TelegramUser
from tests.ops.conftest import Ops
from tests.support import Person

SLOW_DOWN = "You are sending messages very fast"
LIMIT = 6


@pytest.fixture
def gate(services: Services) -> Iterator[int]:
    """The flood gate at a few messages a minute (the suite's settings keep it open)."""
    kept = services.runtime.inbound_per_minute
    services.runtime.inbound_per_minute = LIMIT
    yield LIMIT
    services.runtime.inbound_per_minute = kept


async def test_a_flood_is_answered_up_to_the_limit_then_once_then_not(
    person: Person, make_person, gate: int
) -> None:  # type: ignore[no-untyped-def]
    limit = gate
    answers = [await person.send("hello") for _ in range(limit)]
    assert all(answers)  # the first messages of the minute are all handled
    assert SLOW_DOWN in await person.send("hello")
    for _ in range(5):
        assert await person.send("hello") == ""
    neighbour = make_person()
    assert "Welcome to Baraza" in await neighbour.send("hello")  # others are unaffected

    async with person.services.sessions() as db, db.begin():  # the minute passes
        await db.execute(
            update(Contact)
            .where(Contact.urn_hash == urn_hash(parse(person.urn)))
            .values(flood_started_at=utcnow() - timedelta(minutes=2))
        )
    again = await person.send("hello")
    assert again and SLOW_DOWN not in again


async def test_stop_works_in_the_middle_of_a_flood(person: Person, gate: int) -> None:
    limit = gate
    for _ in range(limit + 3):
        await person.send("hello")
    assert "You will receive no more messages" in await person.send("STOP")
    contact = await person.contact()
    assert contact.opted_out
    assert await person.send("hello") == ""  # stopped, and flooding: nothing at all


async def test_a_telegram_flood_is_acknowledged_and_answered_once_past_the_limit(
    ops: Ops,
) -> None:
    limit = ops.services.runtime.inbound_per_minute
    assert limit == 12
    flooder, other = TelegramUser(ops.telegram), TelegramUser(ops.telegram)
    for index in range(limit + 8):
        await flooder.say(f"message {index}")  # each one: 200
        if index == limit:
            await other.say("/start")
    replies = [m["text"] for m in await flooder.replies()]
    assert len(replies) == limit + 1
    assert SLOW_DOWN in replies[-1] and all(SLOW_DOWN not in r for r in replies[:-1])
    assert len(await other.replies()) == 1
    assert await ops.telegram.count(InboundReceipt) == limit + 9  # every message recorded
