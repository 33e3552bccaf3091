"""Claiming due outbox rows: which rows a sender may take now, and taking them so that
no other process does.

A row is due when its time has come and no earlier message to the same person (of
equal or higher priority) is being sent or waiting for its retry, so a person's
messages go out in order across processes, and a reply never waits behind a
broadcast held for the morning. Claims older than their lease are released first
(the process that held them died). On PostgreSQL the due rows are picked with
``FOR UPDATE SKIP LOCKED``, so processes claiming at once take different rows; the
conditional update to "sending" is what makes a claim, on every database.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import String, and_, exists, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnClause

from bot.db import dialect_name
from bot.models import OutboxMessage
from bot.models.base import utcnow

# The statuses are written into the SQL, not bound as parameters: a planner matches a
# partial index (bot.models.outbox: the queue, the waiting rows, the rows being sent)
# only to the literal value of its predicate, and SQLite's and a generic PostgreSQL
# plan would otherwise leave those indexes out and walk the whole outbox.
PENDING: ColumnClause[str] = literal_column("'pending'", String())
SENDING: ColumnClause[str] = literal_column("'sending'", String())


async def claim_due(
    db: AsyncSession,
    *,
    channel: str,
    worker_id: str,
    claim_timeout: timedelta,
    limit: int,
    recipient_hash: str | None = None,
) -> list[int]:
    """Claim up to ``limit`` due rows of ``channel`` for ``worker_id``; their ids in
    the order to send them (priority, then age)."""
    now = utcnow()
    await db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == SENDING,
            OutboxMessage.channel == channel,
            OutboxMessage.claimed_at < now - claim_timeout,
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
        # A reply does not wait behind a broadcast held for the morning.
        earlier.priority <= OutboxMessage.priority,
        earlier.status.in_((PENDING, SENDING)),  # for the index: implied by the next term
        or_(
            earlier.status == SENDING,
            and_(earlier.status == PENDING, earlier.next_attempt_at > now),
        ),
    )
    due = (
        select(OutboxMessage.id, OutboxMessage.recipient_hash, OutboxMessage.priority)
        .where(
            OutboxMessage.status == PENDING,
            OutboxMessage.channel == channel,
            OutboxMessage.next_attempt_at <= now,
            ~blocked_by_earlier,
        )
        .order_by(OutboxMessage.priority, OutboxMessage.id)
        .limit(limit)
    )
    if recipient_hash is not None:
        due = due.where(OutboxMessage.recipient_hash == recipient_hash)
    postgres = dialect_name(db) == "postgresql"
    if postgres:  # rows another process is claiming right now are left to it
        due = due.with_for_update(skip_locked=True, of=OutboxMessage)
    picked = list((await db.execute(due)).all())
    if postgres and picked:
        picked = await _not_overtaking(db, channel, picked)
    ids = [row.id for row in picked]
    if not ids:
        return []
    claimed = await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "pending")
        .values(status="sending", claimed_by=worker_id, claimed_at=now)
        .returning(OutboxMessage.id)
    )
    won = set(claimed.scalars())
    return [row_id for row_id in ids if row_id in won]  # priority order, as selected


async def _not_overtaking(db: AsyncSession, channel: str, picked: list[Any]) -> list[Any]:
    """The picked rows less those that would overtake an earlier message to the same
    person that is not among them: one another process is claiming at this moment
    (skipped as locked, still "pending" to us), or one itself held back."""
    ids = {row.id for row in picked}
    earlier = await db.execute(
        select(OutboxMessage.id, OutboxMessage.recipient_hash, OutboxMessage.priority).where(
            OutboxMessage.recipient_hash.in_({row.recipient_hash for row in picked}),
            OutboxMessage.channel == channel,
            OutboxMessage.status.in_((PENDING, SENDING)),
            OutboxMessage.id < max(ids),
            OutboxMessage.id.not_in(ids),
        )
    )
    ahead: dict[str, list[tuple[int, int]]] = {}
    for row_id, recipient, priority in earlier.all():
        ahead.setdefault(recipient, []).append((row_id, priority))
    kept: set[int] = set()
    for row in sorted(picked, key=lambda r: r.id):
        waiting = ahead.setdefault(row.recipient_hash, [])
        if any(i < row.id and p <= row.priority for i, p in waiting):
            waiting.append((row.id, row.priority))  # left behind, it holds back later ones
        else:
            kept.add(row.id)
    return [row for row in picked if row.id in kept]
