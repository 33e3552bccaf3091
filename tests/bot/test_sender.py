"""The sender worker: claims, retries with backoff, throttling, opt-outs, order and priority."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.contacts import urn_hash
from bot.conversation import handle_inbound
from bot.messages import InboundMessage, OutboundMessage
from bot.models import Contact, OutboxMessage
from bot.models.base import utcnow
from bot.models.outbox import PRIORITY_NOTIFICATION, PRIORITY_REPLY
from bot.sender import Sender
from bot.services import Services
from bot.urns import parse
from channels.base import (
    DIRECT,
    ConnectionFailed,
    ContactStopped,
    PermanentFailure,
    Throttled,
)
from channels.collecting import CollectingChannel
from tests.support import Person

MakePerson = Callable[..., Person]


async def talk(person: Person, text: str) -> None:
    """What ``Person.send`` does, without draining: the replies stay in the outbox."""
    message = InboundMessage(
        channel="console", urn=person.urn, provider_id=uuid.uuid4().hex, text=text
    )
    async with person.services.sessions() as db, db.begin():
        await handle_inbound(db, person.services.runtime, message)


async def enqueue(
    services: Services,
    urn: str,
    text: str,
    *,
    kind: str = "reply",
    priority: int = PRIORITY_REPLY,
) -> int:
    async with services.sessions() as db, db.begin():
        address = parse(urn)
        contact = await db.scalar(select(Contact).where(Contact.urn_hash == urn_hash(address)))
        if contact is None:
            contact = Contact(urn_hash=urn_hash(address), urn=urn, channel=address.channel)
            db.add(contact)
            await db.flush()
        row = OutboxMessage(  # what bot.outbox.to_contact writes
            channel=contact.channel,
            contact_id=contact.id,
            recipient_hash=contact.urn_hash,
            kind=kind,
            priority=priority,
            payload=OutboundMessage(text=text).to_json(),
        )
        db.add(row)
        await db.flush()
        return row.id


async def rows(services: Services) -> list[OutboxMessage]:
    async with services.sessions() as db:
        found = await db.execute(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(found.scalars())


async def row(services: Services, row_id: int) -> OutboxMessage:
    async with services.sessions() as db:
        found = await db.get(OutboxMessage, row_id)
        assert found is not None
        return found


async def make_due(services: Services, *ids: int) -> None:
    async with services.sessions() as db, db.begin():
        await db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


def sender(services: Services, channel: CollectingChannel, **options: object) -> Sender:
    return Sender(services.sessions, {"console": channel}, **options)  # type: ignore[arg-type]


def close_to(value: datetime, expected: datetime, seconds: float = 3.0) -> bool:
    return abs((value - expected).total_seconds()) <= seconds


async def test_connection_failure_is_retried_with_backoff_then_sent(
    services: Services, person: Person, channel: CollectingChannel
) -> None:
    await talk(person, "hello")
    [pending] = await rows(services)
    assert pending.status == "pending" and pending.attempts == 0
    channel.failures.append(ConnectionFailed("provider returned 502"))

    before = utcnow()
    assert await sender(services, channel).drain() == 1
    failed = await row(services, pending.id)
    assert failed.status == "pending" and failed.attempts == 1
    assert failed.next_attempt_at > before
    assert failed.last_error is not None and "ConnectionFailed" in failed.last_error
    assert "502" in failed.last_error
    assert channel.sent == [] and failed.claimed_by is None

    assert await sender(services, channel).drain() == 0  # not due yet
    assert channel.sent == []

    await make_due(services, pending.id)
    assert await sender(services, channel).drain() == 1
    sent = await row(services, pending.id)
    assert sent.status == "sent" and sent.attempts == 2 and sent.last_error is None
    assert sent.sent_at is not None and sent.provider_message_id == "collected-1"
    [text] = channel.texts_to(person.urn)
    assert "Welcome to Baraza" in text  # "hello": English, detected


async def test_after_max_attempts_the_row_is_failed(
    services: Services, person: Person, channel: CollectingChannel
) -> None:
    row_id = await enqueue(services, person.urn, "will never arrive")
    channel.failures += [ConnectionFailed("down"), ConnectionFailed("still down")]
    worker = sender(services, channel, max_attempts=2)

    await worker.drain()
    assert (await row(services, row_id)).status == "pending"
    await make_due(services, row_id)
    await worker.drain()
    failed = await row(services, row_id)
    assert failed.status == "failed" and failed.attempts == 2
    assert failed.last_error == "ConnectionFailed: still down"

    await make_due(services, row_id)
    assert await worker.drain() == 0
    assert channel.sent == []


async def test_permanent_failure_fails_at_once(
    services: Services, person: Person, channel: CollectingChannel
) -> None:
    row_id = await enqueue(services, person.urn, "to a bad address")
    channel.failures.append(PermanentFailure("invalid number"))
    await sender(services, channel).drain()
    failed = await row(services, row_id)
    assert failed.status == "failed" and failed.attempts == 1
    assert failed.last_error == "PermanentFailure: invalid number"
    await make_due(services, row_id)
    assert await sender(services, channel).drain() == 0 and channel.sent == []


async def test_throttled_defers_by_retry_after_without_counting_an_attempt(
    services: Services, person: Person, channel: CollectingChannel
) -> None:
    row_id = await enqueue(services, person.urn, "slow down")
    channel.failures.append(Throttled(retry_after=30))
    before = utcnow()
    await sender(services, channel, max_attempts=1).drain()
    deferred = await row(services, row_id)
    assert deferred.status == "pending" and deferred.attempts == 0
    assert close_to(deferred.next_attempt_at, before + timedelta(seconds=30))
    assert deferred.last_error is not None and deferred.last_error.startswith("throttled")

    await make_due(services, row_id)  # max_attempts=1: a throttle did not use it up
    await sender(services, channel, max_attempts=1).drain()
    sent = await row(services, row_id)
    assert sent.status == "sent" and sent.attempts == 1
    assert channel.texts_to(person.urn) == ["slow down"]


async def test_contact_stopped_fails_the_row_and_opts_the_contact_out(
    services: Services, person: Person, channel: CollectingChannel
) -> None:
    first = await enqueue(services, person.urn, "blocked by the person")
    channel.failures.append(ContactStopped("bot was blocked by the user"))
    await sender(services, channel).drain()
    failed = await row(services, first)
    assert failed.status == "failed" and "contact stopped" in (failed.last_error or "")
    contact = await person.contact()
    assert contact.opted_out is True and contact.opted_out_at is not None

    later = await enqueue(services, person.urn, "a later reply")
    await sender(services, channel).drain()
    skipped = await row(services, later)
    assert skipped.status == "skipped" and skipped.last_error == "contact stopped"
    assert skipped.attempts == 0 and channel.sent == []


async def test_a_stopped_contact_only_gets_optout_messages(
    services: Services, make_person: MakePerson, channel: CollectingChannel
) -> None:
    person: Person = make_person()
    reply = await enqueue(services, person.urn, "a reply")
    notification = await enqueue(
        services, person.urn, "a notification", kind="notification", priority=5
    )
    optout = await enqueue(services, person.urn, "you are unsubscribed", kind="optout")
    async with services.sessions() as db, db.begin():
        await db.execute(
            update(Contact)
            .where(Contact.urn_hash == urn_hash(parse(person.urn)))
            .values(opted_out=True, opted_out_at=utcnow())
        )
    await sender(services, channel).drain()
    assert (await row(services, reply)).status == "skipped"
    assert (await row(services, notification)).status == "skipped"
    assert (await row(services, optout)).status == "sent"
    assert channel.texts_to(person.urn) == ["you are unsubscribed"]


async def test_within_one_pass_a_failed_message_holds_back_the_next_to_that_person(
    services: Services, person: Person, channel: CollectingChannel
) -> None:
    first = await enqueue(services, person.urn, "first")
    second = await enqueue(services, person.urn, "second")
    channel.failures.append(ConnectionFailed("timeout"))
    worker = sender(services, channel)
    assert await worker.drain_once("console") == 2
    assert (await row(services, first)).status == "pending"
    held = await row(services, second)
    assert held.status == "pending" and held.attempts == 0 and held.claimed_by is None
    assert channel.sent == []


async def test_a_failed_message_is_not_overtaken_by_the_next_to_that_person(
    services: Services, person: Person, channel: CollectingChannel
) -> None:
    first = await enqueue(services, person.urn, "first")
    second = await enqueue(services, person.urn, "second")
    channel.failures.append(ConnectionFailed("timeout"))
    worker = sender(services, channel)
    await worker.drain()
    assert (await row(services, second)).status == "pending"
    assert channel.sent == []
    await make_due(services, first)
    await worker.drain()
    assert channel.texts_to(person.urn) == ["first", "second"]


async def test_other_recipients_are_not_held_back_by_a_failure(
    services: Services, make_person: MakePerson, channel: CollectingChannel
) -> None:
    alice, bob = make_person(), make_person()
    failing = await enqueue(services, alice.urn, "to alice")
    await enqueue(services, bob.urn, "to bob")
    channel.failures.append(ConnectionFailed("timeout"))
    await sender(services, channel).drain()
    assert (await row(services, failing)).status == "pending"
    assert channel.texts_to(bob.urn) == ["to bob"] and channel.texts_to(alice.urn) == []


async def claim_as_dead_worker(services: Services, row_id: int, ago: timedelta) -> None:
    async with services.sessions() as db, db.begin():
        await db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(status="sending", claimed_by="dead:1", claimed_at=utcnow() - ago)
        )


async def test_a_stale_claim_is_released_and_sent_a_fresh_one_is_left_alone(
    services: Services, make_person: MakePerson, channel: CollectingChannel
) -> None:
    stale_person, fresh_person = make_person(), make_person()
    stale = await enqueue(services, stale_person.urn, "claimed long ago")
    fresh = await enqueue(services, fresh_person.urn, "claimed just now")
    await claim_as_dead_worker(services, stale, timedelta(minutes=10))
    await claim_as_dead_worker(services, fresh, timedelta(seconds=10))

    worker = sender(services, channel, worker_id="alive:2")
    assert await worker.drain() == 1
    assert channel.texts_to(stale_person.urn) == ["claimed long ago"]
    assert channel.texts_to(fresh_person.urn) == []
    assert (await row(services, stale)).status == "sent"
    left = await row(services, fresh)
    assert left.status == "sending" and left.claimed_by == "dead:1"


async def test_two_senders_draining_at_once_never_send_a_row_twice(
    services: Services, make_person: MakePerson
) -> None:
    people = [make_person() for _ in range(5)]
    expected = []
    for number in range(40):
        who = people[number % len(people)]
        text = f"message {number}"
        await enqueue(services, who.urn, text)
        expected.append((who.urn, text))
    shared = CollectingChannel()
    workers = [
        Sender(services.sessions, {"console": shared}, batch=7, worker_id=f"w{n}") for n in (1, 2)
    ]
    while sum(await asyncio.gather(*(w.drain() for w in workers))):
        pass  # a worker that lost every claim of a pass stops: go again until none is left

    delivered = Counter((s.urn, s.text) for s in shared.sent)
    assert sorted(delivered) == sorted(expected)
    assert set(delivered.values()) == {1}
    done = await rows(services)
    assert {r.status for r in done} == {"sent"}
    assert {r.claimed_by for r in done} <= {"w1", "w2"}


class GatedChannel(CollectingChannel):
    """Holds the delivery of the text "first" until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.gate = asyncio.Event(), asyncio.Event()

    async def deliver(self, urn, message, envelope=DIRECT):  # type: ignore[no-untyped-def]
        if message.text == "first":
            self.entered.set()
            await self.gate.wait()
        return await super().deliver(urn, message, envelope)


async def test_a_second_sender_does_not_overtake_a_delivery_in_progress(
    services: Services, person: Person
) -> None:
    await enqueue(services, person.urn, "first")
    await enqueue(services, person.urn, "second")
    channel = GatedChannel()
    slow = Sender(services.sessions, {"console": channel}, batch=1, worker_id="slow")
    other = Sender(services.sessions, {"console": channel}, worker_id="other")
    in_flight = asyncio.create_task(slow.drain_once("console"))
    try:
        await asyncio.wait_for(channel.entered.wait(), 5)
        await other.drain_once("console")
    finally:
        channel.gate.set()
        await in_flight
    await other.drain()
    assert channel.texts_to(person.urn) == ["first", "second"]


async def enqueue_notification_then_replies(services: Services, make_person: MakePerson) -> None:
    staff_like, reporter = make_person(), make_person()
    await enqueue(
        services,
        staff_like.urn,
        "new case notification",
        kind="notification",
        priority=PRIORITY_NOTIFICATION,
    )
    await enqueue(services, reporter.urn, "reply to a reporter")
    await enqueue(services, reporter.urn, "second reply")


REPLIES_FIRST = ["reply to a reporter", "second reply", "new case notification"]


async def test_replies_are_claimed_before_notifications(
    services: Services, make_person: MakePerson, channel: CollectingChannel
) -> None:
    await enqueue_notification_then_replies(services, make_person)
    await sender(services, channel, batch=1).drain()
    assert [s.text for s in channel.sent] == REPLIES_FIRST


async def test_replies_start_first_within_a_batch_and_keep_their_order(
    services: Services, make_person: MakePerson, channel: CollectingChannel
) -> None:
    """Recipients are served in parallel, so only the start order is fixed across them."""
    await enqueue_notification_then_replies(services, make_person)
    await sender(services, channel).drain()
    texts = [s.text for s in channel.sent]
    assert texts[0] == "reply to a reporter"
    assert texts.index("reply to a reporter") < texts.index("second reply")
    assert sorted(texts) == sorted(REPLIES_FIRST)


async def test_no_database_connection_is_held_while_a_provider_answers(
    services: Services, person: Person, make_person: MakePerson
) -> None:
    """A slow provider must not keep the webhooks from the database (on SQLite the pool
    has one connection, so holding it across a delivery would stall every webhook)."""
    await enqueue(services, person.urn, "first")
    channel = GatedChannel()
    slow = Sender(services.sessions, {"console": channel}, worker_id="slow")
    in_flight = asyncio.create_task(slow.drain_once("console"))
    try:
        await asyncio.wait_for(channel.entered.wait(), 5)
        await asyncio.wait_for(talk(make_person(), "hello"), 3)  # a webhook's whole work
    finally:
        channel.gate.set()
        await in_flight
    assert channel.texts_to(person.urn) == ["first"]


async def test_after_a_block_the_rest_of_the_batch_to_that_person_is_skipped(
    services: Services, person: Person, channel: CollectingChannel
) -> None:
    ids = [await enqueue(services, person.urn, text) for text in ("one", "two", "three")]
    channel.failures.append(ContactStopped("Forbidden: bot was blocked by the user"))
    await sender(services, channel).drain()
    assert channel.sent == []
    assert [(await row(services, i)).status for i in ids] == ["failed", "skipped", "skipped"]
    assert (await person.contact()).opted_out
