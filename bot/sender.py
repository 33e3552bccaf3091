"""The sender worker: drains the outbox per channel, with retries and backoff.

Rows are claimed with one conditional update (``status = 'pending'`` to
``'sending'``), so two processes never send the same row; a claim older than
``claim_timeout`` is taken to be from a process that died and is released.
Replies go before notifications before bulk; within a recipient, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.messages import OutboundMessage
from bot.models import Contact, OutboxMessage, StaffUser
from bot.models.base import utcnow
from bot.urns import URN, parse
from channels.base import Channel, ContactStopped, SendError, Throttled

log = logging.getLogger(__name__)

SENDS_EVEN_WHEN_STOPPED = {"optout"}


def backoff_seconds(attempt: int, base: float = 2.0, cap: float = 3600.0) -> float:
    """Exponential backoff with full jitter: 2 s, 4 s, 8 s ... at most an hour."""
    return random.uniform(base / 2, min(cap, base * 2 ** max(0, attempt - 1)))


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
    ) -> None:
        self.sessions = sessions
        self.channels = dict(channels)
        self.max_attempts = max_attempts
        self.batch = batch
        self.claim_timeout = claim_timeout
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"

    async def _claim(self, channel: str, recipient_hash: str | None) -> list[int]:
        now = utcnow()
        async with self.sessions() as db, db.begin():
            await db.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.status == "sending",
                    OutboxMessage.channel == channel,
                    OutboxMessage.claimed_at < now - self.claim_timeout,
                )
                .values(status="pending", claimed_by=None)
            )
            earlier = aliased(OutboxMessage)
            # Per recipient, in order: nothing overtakes an earlier message that is being
            # sent (by any process) or waiting for its retry.
            blocked_by_earlier = exists().where(
                earlier.recipient_hash == OutboxMessage.recipient_hash,
                earlier.channel == OutboxMessage.channel,
                earlier.id < OutboxMessage.id,
                or_(
                    earlier.status == "sending",
                    and_(earlier.status == "pending", earlier.next_attempt_at > now),
                ),
            )
            due = (
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == "pending",
                    OutboxMessage.channel == channel,
                    OutboxMessage.next_attempt_at <= now,
                    ~blocked_by_earlier,
                )
                .order_by(OutboxMessage.priority, OutboxMessage.id)
                .limit(self.batch)
            )
            if recipient_hash is not None:
                due = due.where(OutboxMessage.recipient_hash == recipient_hash)
            ids = list((await db.execute(due)).scalars())
            if not ids:
                return []
            claimed = await db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "pending")
                .values(status="sending", claimed_by=self.worker_id, claimed_at=now)
                .returning(OutboxMessage.id)
            )
            won = set(claimed.scalars())
            return [row_id for row_id in ids if row_id in won]  # priority order, as selected

    async def drain_once(self, channel: str, recipient_hash: str | None = None) -> int:
        """Send what is due on one channel; returns how many rows were handled."""
        ids = await self._claim(channel, recipient_hash)
        held: set[str] = set()
        for row_id in ids:
            await self._send_one(row_id, held)
        return len(ids)

    async def drain(self, recipient_hash: str | None = None) -> int:
        total = 0
        for channel in self.channels:
            while handled := await self.drain_once(channel, recipient_hash):
                total += handled
        return total

    async def _recipient(self, db: AsyncSession, row: OutboxMessage) -> tuple[URN | None, str]:
        if row.contact_id is not None:
            contact = await db.get(Contact, row.contact_id)
            if contact is None:
                return None, "contact deleted"
            if contact.opted_out and row.kind not in SENDS_EVEN_WHEN_STOPPED:
                return None, "contact stopped"
            return parse(contact.urn), ""
        staff = await db.get(StaffUser, row.staff_id) if row.staff_id is not None else None
        if staff is None or not staff.address or not staff.active:
            return None, "staff member has no address"
        return parse(staff.address), ""

    async def _send_one(self, row_id: int, held: set[str]) -> None:
        async with self.sessions() as db, db.begin():
            row = await db.get(OutboxMessage, row_id)
            if row is None or row.status != "sending":
                return
            now = utcnow()
            if row.recipient_hash in held:  # an earlier message to them is waiting: keep order
                row.status, row.claimed_by = "pending", None
                return
            urn, why_not = await self._recipient(db, row)
            if urn is None:
                row.status, row.last_error = "skipped", why_not
                return
            channel = self.channels[row.channel]
            row.attempts += 1
            try:
                result = await channel.deliver(urn, OutboundMessage.from_json(row.payload))
            except ContactStopped as exc:
                row.status, row.last_error = "failed", f"contact stopped: {exc}"[:300]
                if row.contact_id is not None:
                    contact = await db.get(Contact, row.contact_id)
                    if contact is not None and not contact.opted_out:
                        contact.opted_out, contact.opted_out_at = True, now
            except Throttled as exc:
                row.attempts -= 1  # being told to wait is not a failed attempt
                self._defer(row, exc.retry_after, f"throttled: {exc}", held)
            except SendError as exc:
                self._fail_or_retry(row, exc.retry, f"{type(exc).__name__}: {exc}", held)
            except Exception as exc:  # a bug or an unmapped error: keep the message, retry
                log.exception("sending outbox row %s failed", row_id)
                self._fail_or_retry(row, True, f"{type(exc).__name__}: {exc}", held)
            else:
                row.status, row.sent_at = "sent", now
                row.provider_message_id = result.provider_message_id
                row.last_error = None

    def _defer(self, row: OutboxMessage, seconds: float, why: str, held: set[str]) -> None:
        row.status, row.claimed_by, row.last_error = "pending", None, why[:300]
        row.next_attempt_at = utcnow() + timedelta(seconds=seconds)
        held.add(row.recipient_hash)

    def _fail_or_retry(self, row: OutboxMessage, retry: bool, why: str, held: set[str]) -> None:
        if retry and row.attempts < self.max_attempts:
            self._defer(row, backoff_seconds(row.attempts), why, held)
        else:
            row.status, row.last_error = "failed", why[:300]

    async def run(self, stop: asyncio.Event, poll_seconds: float = 1.0) -> None:
        """Drain every channel until ``stop`` is set; sleep when there is nothing due."""
        while not stop.is_set():
            handled = 0
            for channel in self.channels:
                try:
                    handled += await self.drain_once(channel)
                except Exception:  # the database may be away: keep the worker alive
                    log.exception("sender pass over %s failed", channel)
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
