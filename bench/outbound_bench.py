"""The outbound side's figures (issue 7): how fast a 100,000-recipient broadcast is
materialized into the outbox on SQLite and PostgreSQL, and the process's peak memory
meanwhile; the send rate achieved against the fake Twilio server with a configured
limit; and how late meeting reminders go out, p50/p99.

Run with ``make bench``; each figure is printed with its target.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.broadcasts import BroadcastDraft, create_broadcast
from bot.contacts import urn_hash
from bot.meetings import MeetingPlan, schedule_meeting
from bot.models import Contact, Dispatch, Forum, ForumMember, OutboxMessage
from bot.models.base import table, utcnow
from bot.urns import parse
from tests import support
from tests.fakes.twilio_api import FakeTwilio


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def add_members(services: support.Services, count: int) -> int:
    async with services.sessions() as db, db.begin():
        forum_id = await db.scalar(select(Forum.id).where(Forum.key == "eastleigh-cpf"))
        assert forum_id is not None
        now = utcnow()
        for start in range(0, count, 10_000):
            rows = [
                {
                    "urn_hash": urn_hash(parse(f"tel:+25472{n:07d}")),
                    "urn": f"tel:+25472{n:07d}",
                    "channel": "sms",
                    "language": ("en", "fr", "pt")[n % 3],
                    "opted_out": n % 50 == 0,
                    "created_at": now,
                }
                for n in range(start, min(count, start + 10_000))
            ]
            ids = (
                await db.execute(insert(table(Contact)).returning(table(Contact).c.id), rows)
            ).scalars()
            await db.execute(
                insert(table(ForumMember)),
                [{"forum_id": forum_id, "contact_id": i, "source": "deployment"} for i in ids],
            )
        return int(forum_id)


async def materialize(backend: str, tmp: Path, count: int) -> None:
    url = await support.create_database(backend, tmp)
    services = await support.open_services(support.test_settings(url, tmp))
    try:
        forum_id = await add_members(services, count)
        async with services.sessions() as db, db.begin():
            directory = await services.runtime.directories.get(db)
            texts = {"en": "Patrols start Monday", "fr": "Patrouilles lundi"}
            await create_broadcast(
                db,
                BroadcastDraft("forum", texts, "en", forum_id=forum_id),
                directory=directory,
                staff_id=None,
            )
        before = rss_mb()
        started = time.perf_counter()
        report = await services.dispatcher().tick()
        elapsed = time.perf_counter() - started
        async with services.sessions() as db:
            rows = await db.scalar(select(func.count()).select_from(OutboxMessage))
        print(
            f"  {backend:10}  {count:,} recipients -> {rows:,} outbox rows "
            f"in {elapsed:.2f} s  (target < 5 s)   peak RSS {rss_mb():.0f} MB "
            f"(+{rss_mb() - before:.0f} MB during)   rows written {sum(report.queued.values()):,}"
        )
    finally:
        await services.close()
        await support.drop_database(url)


async def waiting(services: support.Services) -> int:
    async with services.sessions() as db:
        return int(
            await db.scalar(
                select(func.count()).where(OutboxMessage.status.in_(("pending", "sending")))
            )
            or 0
        )


def _serve_fake_twilio(pipe: Connection) -> None:
    """The fake Twilio server in a process of its own: it sends the app's settings up
    the pipe, and, when told to stop, the times (monotonic, one clock for the whole
    machine) at which each message reached it."""
    with FakeTwilio() as fake:
        pipe.send(fake.app_env())
        pipe.recv()
        pipe.send([m.at for m in fake.messages if m.body and "Rate" in m.body])


@contextlib.contextmanager
def fake_twilio_elsewhere() -> Iterator[tuple[dict[str, str], Connection]]:
    """Twilio is another machine, not a thread of ours competing for the interpreter
    with the sender it measures; ``pipe.send(None); pipe.recv()`` gives its times."""
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=_serve_fake_twilio, args=(theirs,), daemon=True
    )
    server.start()
    try:
        yield ours.recv(), ours
    finally:
        server.join(timeout=10)
        server.kill()


async def send_rate(tmp: Path, limit: float, count: int) -> None:
    url = await support.create_database("sqlite", tmp)
    with fake_twilio_elsewhere() as (fake_env, fake):
        settings = support.test_settings(url, tmp, **fake_env, TWILIO_SMS_RATE=limit)
        services = await support.open_services(settings)
        try:
            forum_id = await add_members(services, count)
            async with services.sessions() as db, db.begin():
                directory = await services.runtime.directories.get(db)
                await create_broadcast(
                    db,
                    BroadcastDraft("forum", {"en": "Rate"}, "en", forum_id=forum_id),
                    directory=directory,
                    staff_id=None,
                )
            await services.dispatcher().tick()
            sender, stop = services.sender(), asyncio.Event()
            worker = asyncio.create_task(sender.run(stop))  # the server's own sending loop
            while await waiting(services):  # noqa: ASYNC110 - the database is what changes
                await asyncio.sleep(0.2)
            stop.set()
            sender.wake()
            await worker
            fake.send(None)
            times = sorted(fake.recv())
        finally:
            await services.close()
            await support.drop_database(url)
    achieved = (len(times) - 1) / (times[-1] - times[0])
    busiest = max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))
    print(
        f"  SMS limit {limit:.0f}/s, {len(times)} messages: achieved {achieved:.2f}/s "
        f"({100 * achieved / limit:.1f}% of the limit; target 97-100%), "
        f"busiest 1-second window {busiest}"
    )


async def reminder_lateness(tmp: Path, meetings: int) -> None:
    url = await support.create_database("sqlite", tmp)
    settings = support.test_settings(url, tmp, BARAZA_TICK_SECONDS=15)
    services = await support.open_services(settings)
    services.channels.clear()  # lateness is when the reminder is queued: no provider needed
    try:
        async with services.sessions() as db, db.begin():
            directory = await services.runtime.directories.get(db)
            forum_id = await db.scalar(select(Forum.id).where(Forum.key == "eastleigh-cpf"))
            assert forum_id is not None
            start = utcnow() + timedelta(seconds=3)
            for n in range(meetings):  # reminders due over the next 20 seconds
                due = start + timedelta(seconds=20 * n / meetings)
                await schedule_meeting(
                    db,
                    MeetingPlan(forum_id, due + timedelta(minutes=1), "Hall", {}, (1,)),
                    directory=directory,
                    staff_id=None,
                )
        services.start_workers()
        await asyncio.sleep(25)
        async with services.sessions() as db:
            rows = (
                await db.execute(
                    select(Dispatch.due_at, func.min(OutboxMessage.created_at))
                    .join(OutboxMessage, OutboxMessage.dispatch_id == Dispatch.id)
                    .where(Dispatch.kind == "reminder")
                    .group_by(Dispatch.id, Dispatch.due_at)
                )
            ).all()
    finally:
        await services.close()
        await support.drop_database(url)
    late = sorted((queued - due).total_seconds() for due, queued in rows)
    p99 = late[min(len(late) - 1, int(len(late) * 0.99))]
    print(
        f"  {len(late)} of {meetings} reminders queued; "
        f"lateness p50 {statistics.median(late):.2f} s, p99 {p99:.2f} s"
        " (tick 15 s; the tick looks again when the next item falls due)"
    )


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print("Materializing a broadcast into the outbox:")
        for backend in ("sqlite", "postgresql"):
            await materialize(backend, root / backend, 100_000)
        print("Send rate against the fake Twilio server:")
        await send_rate(root / "rate", 50.0, 1000)
        print("Reminder lateness:")
        await reminder_lateness(root / "late", 100)


if __name__ == "__main__":
    asyncio.run(main())
