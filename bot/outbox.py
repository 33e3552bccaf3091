"""Putting messages in the outbox, in the caller's transaction.

Nothing here talks to a provider: a row written here is sent by the sender worker
after the transaction commits, so a rolled-back step sends nothing.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import OutboundMessage
from bot.models import Contact, OutboxMessage, StaffUser
from bot.models.outbox import PRIORITY_NOTIFICATION, PRIORITY_REPLY
from bot.privacy import vault
from bot.urns import parse


def to_contact(
    db: AsyncSession,
    contact: Contact,
    message: OutboundMessage,
    *,
    kind: str = "reply",
    priority: int = PRIORITY_REPLY,
    case_id: int | None = None,
) -> OutboxMessage:
    row = OutboxMessage(
        channel=contact.channel,
        contact_id=contact.id,
        recipient_hash=contact.urn_hash,
        case_id=case_id,
        kind=kind,
        priority=priority,
        payload=message.to_json(),
    )
    db.add(row)
    return row


def to_staff(
    db: AsyncSession,
    staff: StaffUser,
    message: OutboundMessage,
    *,
    case_id: int | None = None,
) -> OutboxMessage | None:
    """Notify a staff member on the channel of their address; None if they have none."""
    if not staff.address or not staff.active:
        return None
    urn = parse(staff.address)
    row = OutboxMessage(
        channel=urn.channel,
        staff_id=staff.id,
        recipient_hash=vault().lookup_hash(str(urn)),
        case_id=case_id,
        kind="notification",
        priority=PRIORITY_NOTIFICATION,
        payload=message.to_json(),
    )
    db.add(row)
    return row
