"""The sender worker: drains the outbox per channel, with retries and backoff.

Rows are claimed by ``bot.claims`` (a conditional update, after ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL), so two processes never send the same row and a person's
messages keep their order; a claim's lease is renewed while its batch goes out, and
one not renewed for ``claim_timeout`` is taken to be from a process that died. The
worker claims a channel's next batch while one goes out, so a provider's rate is
used without a gap between batches. Replies go before notifications before bulk. A
provider that is down stops its channel behind an outage gate (``bot.outage``): its
messages wait, uncounted, until it is back.
No database session is held while a provider is called: a slow provider must
not hold connections (or SQLite's write lock) away from the webhooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import random
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.claims import PENDING, claim_due
from bot.contacts import stop_contact
from bot.directory import DirectoryCache
from bot.dispatch_texts import DispatchTexts
from bot.logs import LogThrottle
from bot.messages import OutboundMessage
from bot.metrics import MESSAGES_OUT, SEND_FAILURES
from bot.models import OutboxMessage
from bot.models.base import utcnow
from bot.outage import OutageGate
from bot.sendable import Job, JobReader
from channels.base import (
    ERASE,
    Channel,
    ConnectionFailed,
    ContactStopped,
    Held,
    SendError,
    SendResult,
    Throttled,
)

log = logging.getLogger(__name__)
_quiet = LogThrottle(60.0)  # a pass fails every poll while the database is away

FORGET_ONCE_SENT = {"protection", ERASE}
_EMPTY = OutboundMessage(text="").to_json()
UNREACHED = "ConnectionFailed: "  # how a failure to reach the provider is recorded
Outcome = Literal["done", "held", "stopped"]
# A claim holds what the channel's rate sends in this many seconds (at most ``batch``),
# so a claimed batch goes out well within its lease even when processes share a limit.
BATCH_SECONDS = 5.0


def backoff_seconds(attempt: int, base: float = 2.0, cap: float = 3600.0) -> float:
    """Exponential backoff with full jitter: 2 s, 4 s, 8 s ... at most an hour."""
    return random.uniform(base / 2, min(cap, base * 2 ** max(0, attempt - 1)))


@dataclass
class _Batch:
    """Rows claimed together, and the task that renews their lease until they are out."""

    ids: list[int]
    jobs: list[Job]
    renewing: asyncio.Task[None]


class Sender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        *,
        max_attempts: int = 8,
        batch: int = 50,
        claim_timeout: timedelta = timedelta(minutes=5),
        worker_id: str | None = None,
        concurrency: int = 8,
        directories: DirectoryCache | None = None,
        texts: DispatchTexts | None = None,
        quiet_hours: str = "21:00-07:00",
        rates: Mapping[str, float] | None = None,
        longest_probe: float = 60.0,
    ) -> None:
        self.sessions = sessions
        self.channels = dict(channels)
        self.jobs = JobReader(
            sessions, self.channels, directories or DirectoryCache(), texts, quiet_hours
        )
        self.max_attempts = max_attempts
        self.batch = batch
        self.claim_timeout = claim_timeout
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.concurrency = concurrency
        self.rates = dict(rates or {})
        self.gates = {name: OutageGate(longest_probe=longest_probe) for name in self.channels}
        self._wakes: dict[str, asyncio.Event] = {}
        self._soonest = 1.0

    def batch_for(self, channel: str) -> int:
        rate = self.rates.get(channel)
        return (
            self.batch if rate is None else max(1, min(self.batch, math.ceil(rate * BATCH_SECONDS)))
        )

    async def _claim(self, channel: str, recipient_hash: str | None, limit: int) -> list[int]:
        async with self.sessions() as db, db.begin():
            return await claim_due(
                db,
                channel=channel,
                worker_id=self.worker_id,
                claim_timeout=self.claim_timeout,
                limit=limit,
                recipient_hash=recipient_hash,
            )

    async def drain_once(self, channel: str, recipient_hash: str | None = None) -> int:
        """Send what is due on one channel; returns how many rows were handled.

        Recipients are served in parallel (up to ``concurrency`` at once), each
        recipient's messages one after the other, in order.
        """
        batch = await self._next_batch(channel, recipient_hash)
        return 0 if batch is None else await self._send_batch(batch)

    async def _next_batch(self, channel: str, recipient_hash: str | None) -> _Batch | None:
        """Claim and read what is due next on a channel, its lease kept from now on."""
        gate = self.gates.setdefault(channel, OutageGate())
        size = self.batch_for(channel)
        if gate.down:  # one message probes the provider; the rest wait for it
            if gate.probing or gate.wait() > 0:
                self._soonest = min(self._soonest, max(0.05, gate.wait()))
                return None
            size = 1
        ids = await self._claim(channel, recipient_hash, size)
        if not ids:
            return None
        renewing = asyncio.create_task(self._keep_claimed(ids))
        try:
            return _Batch(ids, await self.jobs.read(ids), renewing)
        except BaseException:
            renewing.cancel()
            raise

    async def _send_batch(self, batch: _Batch) -> int:
        by_recipient: dict[str, list[Job]] = {}
        for job in batch.jobs:
            by_recipient.setdefault(job.recipient_hash, []).append(job)
        limit = asyncio.Semaphore(self.concurrency)

        async def serve(queue: list[Job]) -> None:
            async with limit:
                await self._send_in_order(queue)

        try:
            outcomes = await asyncio.gather(
                *(serve(queue) for queue in by_recipient.values()), return_exceptions=True
            )
        finally:
            batch.renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await batch.renewing
        for failure in outcomes:  # the database went away mid-pass: the claims time out
            if isinstance(failure, BaseException):
                log.error("sending to one recipient failed: %r", failure)
        return len(batch.ids)

    async def _keep_claimed(self, ids: list[int]) -> None:
        """Renew the lease on a batch while it is being sent: a batch that waits its turn
        at a busy provider is not taken for the batch of a process that died."""
        while True:
            await asyncio.sleep(self.claim_timeout.total_seconds() / 3)
            try:
                await self._settle(ids, claimed_at=utcnow())
            except Exception:  # the database is away: the next renewal tries again
                log.exception("renewing the claim on %d outbox rows failed", len(ids))

    async def drain(self, recipient_hash: str | None = None) -> int:
        total = 0
        for channel in self.channels:
            while handled := await self.drain_once(channel, recipient_hash):
                total += handled
        return total

    async def _send_in_order(self, queue: list[Job]) -> None:
        for index, job in enumerate(queue):
            outcome = await self._send_one(job)
            later = [j.row_id for j in queue[index + 1 :]]
            if outcome == "held":  # it waits for a retry: the later ones wait behind it
                await self._settle(later, status="pending", claimed_by=None)
                return
            if outcome == "stopped":  # they blocked us: nothing more goes to them
                await self._settle(later, status="skipped", last_error="contact stopped")
                return

    async def _send_one(self, job: Job) -> Outcome:
        """Deliver one message (no database session is held meanwhile) and record the
        outcome: done (sent or failed for good), held for a retry, or the contact stopped."""
        channel = self.channels[job.channel]
        gate = self.gates[job.channel]
        attempts = job.attempts + 1
        if not gate.admits():  # the provider is down: back in the queue as it was
            await self._settle([job.row_id], status="pending", claimed_by=None)
            return "held"
        try:
            result = await self._deliver(channel, job)
        except ConnectionFailed as exc:
            was_down = gate.down
            if gate.failed():  # an outage, not this message's fault: not an attempt
                self._soonest = min(self._soonest, max(0.01, gate.wait()))
                await self._record(job.row_id, job.attempts, "pending", f"provider down: {exc}")
                if not was_down:
                    await self._back_in_line(job.channel)
                return "held"
            outcome = await self._fail_or_retry(job, attempts, exc.retry, f"{UNREACHED}{exc}")
            if gate.down:  # found down while this was recorded: back in line too
                await self._back_in_line(job.channel)
            return outcome
        except ContactStopped as exc:
            gate.succeeded()
            await self._record(job.row_id, attempts, "failed", f"contact stopped: {exc}")
            if job.contact_id is not None:
                await self._opt_out(job.contact_id)
            return "stopped"
        except Held as exc:  # kept and reported, never dropped: an operator can act on it
            gate.succeeded()
            log.warning("outbox row %s (%s) held: %s", job.row_id, job.envelope.kind, exc)
            await self._record(job.row_id, attempts, "held", str(exc))
            return "held"
        except Throttled as exc:  # being told to wait is not a failed attempt
            gate.released()
            await self._record(
                job.row_id, job.attempts, "pending", f"throttled: {exc}", retry_in=exc.retry_after
            )
            return "held"
        except SendError as exc:
            gate.succeeded()  # the provider answered, and refused this message
            return await self._fail_or_retry(
                job, attempts, exc.retry, f"{type(exc).__name__}: {exc}"
            )
        except Exception as exc:  # a bug or an unmapped error: keep the message, retry
            gate.released()
            log.exception("sending outbox row %s failed", job.row_id)
            return await self._fail_or_retry(job, attempts, True, f"{type(exc).__name__}: {exc}")
        except BaseException:  # cancelled mid-send: a probe must not stay taken
            gate.released()
            raise
        was_down = gate.down
        gate.succeeded()
        if was_down:  # back: what failed to reach it goes now, in its place in the queue
            await self._back_in_line(job.channel)
        await self._record(
            job.row_id,
            attempts,
            "sent",
            None,
            provider_id=result.provider_message_id,
            segments=result.segments,
            scrub=job.envelope.kind in FORGET_ONCE_SENT,
        )
        return "done"

    async def _back_in_line(self, channel: str) -> None:
        """The provider was found down, or back: the messages that failed to reach it and
        wait out a backoff go back to their place in the queue (due now, behind the gate)
        instead of going after younger ones when it answers. Read from the rows, not from
        this process's memory: a failure recorded while another message tripped the gate
        is caught all the same, and so are those of other processes."""
        async with self.sessions() as db, db.begin():
            now = utcnow()
            await db.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.channel == channel,
                    OutboxMessage.status == PENDING,  # the queue's partial index
                    OutboxMessage.next_attempt_at > now,
                    OutboxMessage.last_error.startswith(UNREACHED),
                )
                .values(next_attempt_at=now)
            )

    @staticmethod
    async def _deliver(channel: Channel, job: Job) -> SendResult:
        """The channel's delivery, counted for /metrics (sent, or failed by error class)."""
        try:
            result = await channel.deliver(job.urn, job.message, job.envelope)
        except Exception as exc:
            SEND_FAILURES.labels(job.channel, type(exc).__name__).inc()
            raise
        MESSAGES_OUT.labels(job.channel).inc()
        return result

    async def _fail_or_retry(self, job: Job, attempts: int, retry: bool, why: str) -> Outcome:
        if retry and attempts < self.max_attempts:
            await self._record(
                job.row_id, attempts, "pending", why, retry_in=backoff_seconds(attempts)
            )
            return "held"
        await self._record(job.row_id, attempts, "failed", why)
        return "done"

    async def _record(
        self,
        row_id: int,
        attempts: int,
        status: str,
        why: str | None,
        *,
        retry_in: float | None = None,
        provider_id: str | None = None,
        segments: int | None = None,
        scrub: bool = False,
    ) -> None:
        now = utcnow()
        values: dict[str, object] = {
            "status": status,
            "attempts": attempts,
            "last_error": why[:300] if why else None,
        }
        if scrub:  # what a protection reply said is not kept once it is out
            values["payload"] = _EMPTY
        if status == "sent":
            values.update(sent_at=now, provider_message_id=provider_id, segments=segments)
        if status == "pending":
            values.update(claimed_by=None)
        if retry_in is not None:
            values.update(next_attempt_at=now + timedelta(seconds=retry_in))
            self._soonest = min(self._soonest, retry_in)
        await self._settle([row_id], **values)

    async def _settle(self, row_ids: list[int], **values: object) -> None:
        """Write what became of rows this worker claimed (and still holds)."""
        if row_ids:
            async with self.sessions() as db, db.begin():
                await db.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id.in_(row_ids),
                        OutboxMessage.status == "sending",
                        OutboxMessage.claimed_by == self.worker_id,
                    )
                    .values(**values)
                )

    async def _opt_out(self, contact_id: int) -> None:
        async with self.sessions() as db, db.begin():
            await stop_contact(db, contact_id=contact_id)

    def wake(self) -> None:
        """Something new is in the outbox: look now rather than at the next poll."""
        for event in self._wakes.values():
            event.set()

    async def run(self, stop: asyncio.Event, poll_seconds: float = 1.0) -> None:
        """Drain every channel until ``stop`` is set, each channel on its own."""
        await asyncio.gather(
            *(self._pump(channel, stop, poll_seconds) for channel in self.channels)
        )

    async def _pump(self, channel: str, stop: asyncio.Event, poll_seconds: float) -> None:
        """Send a channel's batches one after the other, claiming the next while one goes
        out (a provider's rate is used without a gap between batches); sleep when there is
        nothing due, until woken, the poll passes, or a deferred message falls due."""
        wake = self._wakes.setdefault(channel, asyncio.Event())
        sending: asyncio.Task[int] | None = None
        while not stop.is_set():
            wake.clear()
            self._soonest = poll_seconds
            try:
                batch = await self._next_batch(channel, None)
            except Exception:  # the database may be away: keep the worker alive, quietly
                _quiet.error(log, channel, "sender pass over %s failed", channel, exc_info=True)
                batch = None
            if sending is not None:  # a batch starts when the one before is out
                await sending
                sending = None
                if batch is None:
                    continue  # what that batch held back (a person's next message) is due
            if batch is not None:
                sending = asyncio.create_task(self._send_batch(batch))
            elif not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=max(0.01, self._soonest))
        if sending is not None:
            await sending
