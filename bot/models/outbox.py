"""The transactional outbox: every message the system sends is a row here first.

Replies are written in the same transaction as the step that decided them, so a
crash can never leave a case without its acknowledgement or send one twice. The
payload (text and choices) is sealed because replies echo what people told us.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, Sealed, UTCDateTime, utcnow

PRIORITY_REPLY = 0
PRIORITY_NOTIFICATION = 5
PRIORITY_BULK = 10


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        # The claim walks a channel's queue in sending order and stops at its batch; for
        # each row it looks up earlier messages still waiting for the same person. Both
        # lookups are on indexes of the waiting rows only (sent ones pile up beside them),
        # so a claim costs the same with 100 or 100,000 waiting, and the planner has no
        # cheaper-looking plan to pick on stale statistics after a burst of inserts.
        Index(
            "ix_outbox_queue",
            "channel",
            "priority",
            "id",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(
            "ix_outbox_waiting",
            "recipient_hash",
            "channel",
            "id",
            postgresql_where=text("status IN ('pending', 'sending')"),
            sqlite_where=text("status IN ('pending', 'sending')"),
        ),
        Index(
            "ix_outbox_sending",
            "channel",
            "claimed_at",
            postgresql_where=text("status = 'sending'"),
            sqlite_where=text("status = 'sending'"),
        ),
        # A person gets one copy of a broadcast, reminder or campaign message, whatever
        # retries, restarts and processes do (rows outside a dispatch have no dispatch_id).
        Index("ux_outbox_dispatch_contact", "dispatch_id", "contact_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    # For recipients that are neither a contact nor a staff user (a forum's group chat).
    address: Mapped[str | None] = mapped_column(Sealed)
    kind: Mapped[str] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(Integer, default=PRIORITY_REPLY)
    # None for a dispatch's rows: rendered from the dispatch, per language, when sent.
    payload: Mapped[str | None] = mapped_column(Sealed)
    dispatch_id: Mapped[int | None] = mapped_column(ForeignKey("dispatches.id", ondelete="CASCADE"))
    language: Mapped[str | None] = mapped_column(String(16))
    part: Mapped[int | None] = mapped_column(Integer)  # which message of a campaign
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(300))
    recipient_hash: Mapped[str] = mapped_column(String(64), index=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(128), index=True)
    segments: Mapped[int | None] = mapped_column(Integer)  # SMS segments it cost
    # What the provider's status callbacks said after we handed it over.
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RateSlot(Base):
    """A provider limit's next free send slot, shared by every process (``bot.limiter``
    on PostgreSQL without Redis): seconds since the epoch, on the database's clock."""

    __tablename__ = "rate_slots"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)
