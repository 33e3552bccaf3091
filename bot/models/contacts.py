"""People who talk to the bot, their conversation state, and inbound de-duplication.

A contact's address (a URN such as ``tel:+254...``) is sealed; ``urn_hash`` is the
keyed hash used to find the contact again. The session holds where the contact is
in a flow, sealed too, because half-finished answers can be as sensitive as cases.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, Sealed, UTCDateTime, utcnow


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    urn_hash: Mapped[str] = mapped_column(String(64), unique=True)
    urn: Mapped[str] = mapped_column(Sealed)
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(16))
    # Guessed from a message (bot/i18n/detect.py), not chosen: a later first message
    # may guess again; a language chosen from the menu is never overridden.
    language_detected: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # bot.floodgate: messages counted in the minute that started at flood_started_at.
    flood_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flood_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    flood_noticed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ConversationSession(Base):
    __tablename__ = "conversation_sessions"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    flow: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(Sealed)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InboundReceipt(Base):
    """One row per provider message id: providers retry, a message is handled once."""

    __tablename__ = "inbound_receipts"
    __table_args__ = (UniqueConstraint("channel", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
