"""What providers tell us after a message left: queued, sent, delivered, read, failed.

Callbacks can arrive out of order (a late "sent" after "delivered"), so a status
only replaces one that is earlier in a message's life. An error that means the
person unsubscribed stops them, as a STOP would; one that means WhatsApp's window
had closed marks the message held, so it is reported, not lost.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.contacts import stop_contact
from bot.models import OutboxMessage

PROGRESS = {"accepted": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4, "read": 5}
FINAL = {"failed", "undelivered", "canceled"}
KNOWN = set(PROGRESS) | FINAL | {"receiving", "received", "scheduled"}
UNSUBSCRIBED = "21610"
OUTSIDE_WINDOW = "63016"


def _rank(status: str | None) -> int:
    if status in FINAL:
        return 100
    return PROGRESS.get(status or "", -1)


async def record_status(
    db: AsyncSession, provider_message_id: str, status: str, error_code: str | None
) -> bool:
    """Record a delivery status; False when no outbox message has that provider id."""
    status = status.lower()[:20]
    row = await db.scalar(
        select(OutboxMessage).where(OutboxMessage.provider_message_id == provider_message_id)
    )
    if row is None or status not in KNOWN:
        return False
    if _rank(status) >= _rank(row.delivery_status):
        row.delivery_status = status
        row.error_code = (error_code or "")[:10] or None
    if error_code == UNSUBSCRIBED and row.contact_id is not None:
        await stop_contact(db, contact_id=row.contact_id)
    elif error_code == OUTSIDE_WINDOW:
        row.status, row.last_error = "held", "outside WhatsApp's 24-hour window (63016)"
    return True
