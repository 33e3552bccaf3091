"""Retention: a closed protection case's words are erased after a set number of days.

``BARAZA_PROTECTION_RETENTION_DAYS`` (default 90) after a protection case is closed,
everything a person said or could be found by goes: the description, name, contact
method and time, satisfaction comment, location, the link to the contact, every
message of its timeline, and the text of every message sent about it. What stays is
the case's shell (code, unit, area, help asked for, dates) and the anonymous
``ProtectionCount`` written when the case was referred (``bot.protection`` writes
one for every outcome, referred included), so the aggregates survive.

The scheduler runs this hourly and ``baraza retention purge`` by hand. Cases are
claimed with a conditional update, so two processes never purge (or audit) the same
case twice; each batch is its own transaction, so the write lock is held briefly.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.messages import OutboundMessage
from bot.models import AuditEntry, Case, CaseMessage, OutboxMessage
from bot.models.base import table, utcnow

log = logging.getLogger(__name__)

BATCH = 500
EMPTY_PAYLOAD = OutboundMessage(text="").to_json()  # still a message, for anything reading it

CASES = table(Case)
MESSAGES = table(CaseMessage)
OUTBOX = table(OutboxMessage)
AUDIT = table(AuditEntry)


async def purge_protection_content(
    sessions: async_sessionmaker[AsyncSession],
    *,
    retention_days: int,
    now: datetime | None = None,
    batch: int = BATCH,
) -> int:
    """Erase the content of protection cases closed more than ``retention_days`` ago
    and not yet purged; returns how many cases were purged."""
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days)
    purged = 0
    while True:
        async with sessions() as db, db.begin():
            done = await _purge_batch(db, cutoff, now, retention_days, batch)
        purged += done
        if not done:  # none left, or another process is purging them
            break
    if purged:
        log.info("retention: erased the content of %d closed protection case(s)", purged)
    return purged


async def _purge_batch(
    db: AsyncSession, cutoff: datetime, now: datetime, retention_days: int, batch: int
) -> int:
    due = (
        select(CASES.c.id)
        .where(
            CASES.c.kind == "protection",
            CASES.c.closed_at < cutoff,
            CASES.c.content_purged_at.is_(None),
        )
        .order_by(CASES.c.id)
        .limit(batch)
    )
    ids = list((await db.scalars(due)).all())
    if not ids:
        return 0
    # The claim: only cases still unpurged are ours (another process may have begun).
    claimed = (
        await db.execute(
            update(CASES)
            .where(CASES.c.id.in_(ids), CASES.c.content_purged_at.is_(None))
            .values(
                description="",
                reporter_name=None,
                contact_time=None,
                contact_method=None,
                satisfaction_comment=None,
                latitude=None,
                longitude=None,
                contact_id=None,
                content_purged_at=now,
                updated_at=now,
            )
            .returning(CASES.c.id, CASES.c.reference, CASES.c.closed_at)
        )
    ).all()
    if not claimed:  # another process purged them first
        return 0
    case_ids = [case_id for case_id, _, _ in claimed]
    await db.execute(delete(MESSAGES).where(MESSAGES.c.case_id.in_(case_ids)))
    await db.execute(
        update(OUTBOX)
        .where(OUTBOX.c.case_id.in_(case_ids), OUTBOX.c.status == "pending")
        .values(status="skipped", last_error="retention")
    )
    await db.execute(
        update(OUTBOX).where(OUTBOX.c.case_id.in_(case_ids)).values(payload=EMPTY_PAYLOAD)
    )
    # Messages to the person no longer say which case they were about.
    await db.execute(
        update(OUTBOX)
        .where(OUTBOX.c.case_id.in_(case_ids), OUTBOX.c.contact_id.is_not(None))
        .values(case_id=None)
    )
    await db.execute(
        insert(AUDIT),
        [
            {
                "at": now,
                "action": "retention_purged",
                "case_id": case_id,
                "target": reference,
                "detail": (
                    f"content erased {retention_days} days after closure "
                    f"({closed_at:%Y-%m-%d}); anonymous count kept"
                ),
            }
            for case_id, reference, closed_at in claimed
        ],
    )
    return len(claimed)
