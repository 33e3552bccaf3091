"""Putting messages in the outbox, in the caller's transaction.

Nothing here talks to a provider: a row written here is sent by the sender worker
after the transaction commits, so a rolled-back step sends nothing. Rows are
written with Core inserts, not the ORM unit of work: this is on the path of
every message, and one statement for all of a turn's replies is much cheaper.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.contacts import ContactRecord, urn_hash
from bot.messages import OutboundMessage
from bot.models import OutboxMessage
from bot.models.base import table, utcnow
from bot.models.outbox import PRIORITY_BULK, PRIORITY_NOTIFICATION, PRIORITY_REPLY
from bot.urns import parse

# On the table, not the entity: ORM-enabled DML costs five times as much per statement.
_INSERT = insert(table(OutboxMessage))


async def _write(db: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        now = utcnow()
        for row in rows:
            row.update(status="pending", attempts=0, next_attempt_at=now, created_at=now)
        await db.execute(_INSERT, rows)


async def to_contact(
    db: AsyncSession,
    contact: ContactRecord,
    messages: OutboundMessage | Sequence[OutboundMessage],
    *,
    kind: str = "reply",
    priority: int = PRIORITY_REPLY,
    case_id: int | None = None,
) -> int:
    """Queue messages for a contact, in order; returns how many."""
    batch = [messages] if isinstance(messages, OutboundMessage) else list(messages)
    await _write(
        db,
        [
            {
                "channel": contact.channel,
                "contact_id": contact.id,
                "recipient_hash": contact.urn_hash,
                "case_id": case_id,
                "kind": kind,
                "priority": priority,
                "payload": message.to_json(),
            }
            for message in batch
        ],
    )
    return len(batch)


async def to_address(
    db: AsyncSession,
    address: str | None,
    message: OutboundMessage,
    *,
    staff_id: int | None = None,
    case_id: int | None = None,
    kind: str = "notification",
    priority: int = PRIORITY_NOTIFICATION,
) -> bool:
    """Queue a message to a staff member's address, or to a chat named in the deployment
    (``staff_id`` None: the address travels sealed in the row); False if there is none."""
    if not address:
        return False
    urn = parse(address)
    await _write(
        db,
        [
            {
                "channel": urn.channel,
                "staff_id": staff_id,
                "address": None if staff_id is not None else str(urn),
                "recipient_hash": urn_hash(urn),
                "case_id": case_id,
                "kind": kind,
                "priority": priority,
                "payload": message.to_json(),
            }
        ],
    )
    return True


async def to_contacts(
    db: AsyncSession,
    recipients: Sequence[tuple[int, str, str, OutboundMessage]],
    *,
    kind: str,
    priority: int = PRIORITY_BULK,
) -> int:
    """Queue one message each to many contacts, given as (id, channel, urn hash, message)."""
    await _write(
        db,
        [
            {
                "channel": channel,
                "contact_id": contact_id,
                "recipient_hash": hashed,
                "kind": kind,
                "priority": priority,
                "payload": message.to_json(),
            }
            for contact_id, channel, hashed, message in recipients
        ],
    )
    return len(recipients)
