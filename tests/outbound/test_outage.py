"""A provider outage: Twilio answers 503 slowly for several seconds while a broadcast
and people's replies are queued. Nothing fails, the dead provider is probed rather
than hammered, and when it is back everything goes once: replies first, oldest first.
(Minutes-long outages run in ``make soak``; the mechanism is the same.)"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, insert, select

from bot.contacts import urn_hash
from bot.messages import OutboundMessage
from bot.models import Contact, OutboxMessage
from bot.models.base import table, utcnow
from bot.outbox import to_contacts
from bot.urns import parse
from tests.channels.test_twilio import Phone, World

BULK = 24
REPLIES = 5


async def queue_bulk(world: World) -> list[str]:
    """One announcement each to ``BULK`` SMS contacts, in this order; their numbers."""
    numbers = [f"+25473{n:07d}" for n in range(BULK)]
    async with world.services.sessions() as db, db.begin():
        rows = [
            {
                "urn_hash": urn_hash(parse(f"tel:{number}")),
                "urn": f"tel:{number}",
                "channel": "sms",
                "language": "en",
                "opted_out": False,
                "created_at": utcnow(),
            }
            for number in numbers
        ]
        result = await db.execute(
            insert(table(Contact)).returning(table(Contact).c.id, table(Contact).c.urn_hash), rows
        )
        ids = {hashed: contact_id for contact_id, hashed in result.all()}
        await to_contacts(
            db,
            [
                (ids[row["urn_hash"]], "sms", row["urn_hash"], OutboundMessage(text="Patrols"))
                for row in rows
            ],
            kind="broadcast",
        )
    return numbers


async def test_an_outage_queues_everything_and_drains_it_in_order_when_twilio_is_back(
    world: World,
) -> None:
    fake = world.fake
    sender = world.services.sender()
    for gate in sender.gates.values():
        gate.longest_probe = 1.0  # probe every second (a minute, in production)
    stop = asyncio.Event()
    fake.down(503, hang=0.3)  # slow and failing, as a provider in trouble is
    worker = asyncio.create_task(sender.run(stop, poll_seconds=0.2))
    try:
        bulk = await queue_bulk(world)
        sender.wake()
        phones = [Phone(world) for _ in range(REPLIES)]
        for phone in phones:  # people write meanwhile: their replies queue behind nothing
            assert (await phone.text("hello")).status_code == 200
        await asyncio.sleep(5)  # the outage
        tried_while_down = len(fake.requests)
        async with world.services.sessions() as db:
            failed = await db.scalar(select(func.count()).where(OutboxMessage.status == "failed"))
        back = time.monotonic()
        fake.up()
        expected = BULK + REPLIES
        await fake.wait_for(lambda f: len(f.messages) >= expected, timeout=30)
        await asyncio.sleep(0.5)  # anything sent twice would arrive now
    finally:
        fake.up()
        stop.set()
        sender.wake()
        await worker
    print(f"\n{tried_while_down} requests in 5 s of outage for {BULK + REPLIES} messages")
    assert failed == 0  # nothing gave up during the outage
    assert tried_while_down <= 8 + 8  # one batch in flight, then one probe a second
    sent = fake.messages
    assert sorted(m.to for m in sent) == sorted(bulk + [p.number for p in phones])  # once each
    assert all(m.at > back for m in sent)
    order = [m.to for m in sent]
    # The first message through is the probe that found Twilio back: at most one probe
    # interval (1 s) after its return, plus a failing probe's 0.3 s hang still under way.
    reopened = min(m.at for m in sent)
    assert reopened - back < 1.0 + 0.3 + 1.0  # (and a second of slack for a loaded machine)
    replies_at = [m.at - reopened for m in sent if m.to not in bulk]
    bulk_order = [bulk.index(to) for to in order if to in bulk]
    # Sends start in order (replies, then oldest first) but run 8 at a time, so arrival
    # order is loose on a loaded machine: every reply within a second of the gate
    # reopening (none waits out a backoff behind the rest), and nearly every pair of
    # announcements in the order they were queued.
    assert max(replies_at) < 1.0
    in_order = sum(a < b for i, a in enumerate(bulk_order) for b in bulk_order[i + 1 :])
    assert in_order >= 0.7 * BULK * (BULK - 1) / 2  # random would be half; 8 at once ~80%
    async with world.services.sessions() as db:
        attempts = await db.scalar(select(func.max(OutboxMessage.attempts)))
    assert (
        attempts is not None and attempts <= 2
    )  # one failure before the outage was known, then the send
