"""Claims across processes and outages: rows another process is claiming right now are
skipped (PostgreSQL's SKIP LOCKED) without a person's later message overtaking them;
the outage gate's arithmetic."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.claims import claim_due
from bot.models import OutboxMessage
from bot.models.base import utcnow
from bot.outage import OutageGate
from bot.services import Services
from channels.base import ConnectionFailed
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


async def test_the_claim_walks_the_indexes_of_the_waiting_rows(
    backend: str, services: Services, make_person: MakePerson
) -> None:
    """Each statement of a claim, as the driver sends it, is planned on the partial
    indexes of the waiting rows: the whole outbox (sent rows pile up for ever) is
    never walked, whatever the statistics say (PostgreSQL: a generic plan, sequential
    scans ruled out, so only a usable index can serve)."""
    first = make_person()
    await enqueue(services, first.urn, "a1")
    await enqueue(services, first.urn, "a2")
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if sql.lstrip().upper().startswith(("SELECT", "UPDATE")) and "outbox" in sql:
            statements.append((sql, params))

    engine = services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        async with services.sessions() as db, db.begin():
            await claim_due(
                db, channel="console", worker_id="w", claim_timeout=timedelta(minutes=5), limit=50
            )
            await db.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    plans = []
    async with services.engine.connect() as connection:
        if backend == "postgresql":
            await connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
            await connection.exec_driver_sql("SET enable_seqscan = off")
        for sql, params in statements:
            explain = "EXPLAIN " if backend == "postgresql" else "EXPLAIN QUERY PLAN "
            rows = await connection.exec_driver_sql(explain + sql, params)
            plans.append("\n".join(" ".join(map(str, row)) for row in rows.all()))
        await connection.rollback()
    whole = "\n".join(plans)
    assert "ix_outbox_sending" in plans[0], plans[0]  # the claims of dead processes
    assert "ix_outbox_queue" in whole and "ix_outbox_waiting" in whole, whole
    assert "Seq Scan on outbox" not in whole
    assert "SCAN outbox" not in whole.replace("SCAN outbox USING", "")


async def test_failures_recorded_before_the_gate_tripped_wait_no_backoff(
    services: Services, make_person: MakePerson
) -> None:
    """Two messages fail to reach the provider and get a backoff; a third failure shows
    it is down. Those two go back to their place in the queue (due now, behind the
    gate), whichever process or order recorded them, and go first when it is back."""
    people = [make_person() for _ in range(7)]
    ids = [await enqueue(services, p.urn, f"m{n}") for n, p in enumerate(people[:4])]
    channel = CollectingChannel()
    channel.failures += [ConnectionFailed("502"), ConnectionFailed("502")]
    worker = sender(services, channel, concurrency=1)
    await worker.drain_once("console")  # m0 and m1 fail; m2 and m3 are sent
    assert [(await row(services, i)).status for i in ids] == ["pending", "pending", "sent", "sent"]
    assert (await row(services, ids[0])).next_attempt_at > utcnow()  # a backoff, for now
    more = [await enqueue(services, p.urn, f"n{n}") for n, p in enumerate(people[4:])]
    channel.failures += [ConnectionFailed("503")] * 3
    await worker.drain_once("console")  # n0, n1, n2 fail: three in a row, the gate trips
    gate = worker.gates["console"]
    assert gate.down
    for row_id in ids[:2]:  # the backoff of m0 and m1 is over: they wait behind the gate
        assert (await row(services, row_id)).next_attempt_at <= utcnow()
    gate.probe_at = 0.0  # the probe is due
    assert await worker.drain() >= 1 and not gate.down
    assert [(await row(services, i)).status for i in ids[:2] + more] == ["sent"] * 5
