"""What the staff side keeps about staff: their open sessions and what they did.

Tokens are stored as hashes, so a copy of the database opens no session. The audit
log has no foreign keys (nothing may cascade into it) and database triggers refuse
any UPDATE or DELETE on it: it is written once and read by admins, never edited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime, utcnow


class StaffToken(Base):
    __tablename__ = "staff_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # "api" (bearer) or "web" (cookie)
    csrf: Mapped[str | None] = mapped_column(String(64))  # web sessions: the form token
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(String(254))  # the staff email, as it was
    action: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    target: Mapped[str | None] = mapped_column(String(254))
    detail: Mapped[str | None] = mapped_column(String(500))
    client: Mapped[str | None] = mapped_column(String(64))  # the staff member's IP address
