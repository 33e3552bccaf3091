"""Claims across processes and outages: rows another process is claiming right now are
skipped (PostgreSQL's SKIP LOCKED) without a person's later message overtaking them;
the outage gate's arithmetic."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.models import OutboxMessage
from bot.outage import OutageGate
from bot.services import Services
from channels.collecting import CollectingChannel
from tests.bot.test_sender import MakePerson, enqueue, row, sender


async def test_rows_being_claimed_elsewhere_are_skipped_and_not_overtaken(
    backend: str, services: Services, make_person: MakePerson
) -> None:
    if backend != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has one writer at a time")
    first, other = make_person(), make_person()
    a1 = await enqueue(services, first.urn, "a1")
    a2 = await enqueue(services, first.urn, "a2")
    b1 = await enqueue(services, other.urn, "b1")
    channel = CollectingChannel()
    worker = sender(services, channel)
    async with services.sessions() as elsewhere, elsewhere.begin():
        # Another process is in the middle of claiming a1: its row is locked, still pending.
        await elsewhere.execute(
            select(OutboxMessage.id).where(OutboxMessage.id == a1).with_for_update()
        )
        handled = await asyncio.wait_for(worker.drain_once("console"), 5)  # no waiting on it
        assert handled == 1 and channel.texts_to(other.urn) == ["b1"]
        assert channel.texts_to(first.urn) == []  # a2 did not overtake a1
        assert (await row(services, a2)).status == "pending"
    assert await worker.drain() == 2
    assert channel.texts_to(first.urn) == ["a1", "a2"]
    assert (await row(services, b1)).status == "sent"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_gate_closes_after_three_failures_in_a_row_and_probes_one_at_a_time() -> None:
    clock = Clock()
    gate = OutageGate(trip_after=3, first_probe=1.0, longest_probe=4.0, clock=clock)
    assert [gate.failed(), gate.failed()] == [False, False] and gate.admits()
    gate.succeeded()  # a success between failures: not an outage
    assert [gate.failed(), gate.failed(), gate.failed()] == [False, False, True]
    assert gate.down and not gate.admits() and gate.wait() == 1.0
    clock.now = 1.0
    assert gate.admits() and not gate.admits()  # one probe, not two
    assert gate.failed() and gate.wait() == 2.0  # it failed: twice as long
    clock.now = 3.0
    assert gate.admits() and gate.failed() and gate.wait() == 4.0
    clock.now = 7.0
    assert gate.admits() and gate.failed() and gate.wait() == 4.0  # at most longest_probe
    clock.now = 11.0
    assert gate.admits()
    gate.released()  # the probe was deferred, not answered: another may go
    assert gate.admits()
    gate.succeeded()
    assert not gate.down and gate.admits() and gate.admits() and gate.wait() == 0.0
