"""Concerns and protection cases, and the messages on their timeline.

A case is found by a short reference code that a person can read aloud and type on
a keypad; descriptions and names are sealed at rest.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, Sealed, UTCDateTime, utcnow


class Case(Base):
    __tablename__ = "cases"
    # The dashboard counts concerns of a period by kind, then forum: one index range.
    __table_args__ = (Index("ix_cases_kind_created_at", "kind", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="concern")
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    forum_id: Mapped[int | None] = mapped_column(
        ForeignKey("forums.id", ondelete="SET NULL"), index=True
    )
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("protection_units.id", ondelete="SET NULL"), index=True
    )
    queue: Mapped[str] = mapped_column(String(20))
    route_reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    reporter_name: Mapped[str | None] = mapped_column(Sealed)
    description: Mapped[str] = mapped_column(Sealed)
    language: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(20))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Protection cases only: what the survivor chose, and nothing they did not.
    help_type: Mapped[str | None] = mapped_column(String(20))
    consent_service: Mapped[bool | None] = mapped_column(Boolean)
    contact_method: Mapped[str | None] = mapped_column(String(20))  # None: do not contact
    contact_time: Mapped[str | None] = mapped_column(Sealed)
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The staff side's work on the case.
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    satisfaction: Mapped[int | None] = mapped_column(Integer)  # 1 to 5, asked at resolution
    satisfaction_comment: Mapped[str | None] = mapped_column(Sealed)
    # Retention: when a closed protection case's words were erased (counts stay).
    content_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProtectionCount(Base):
    """One protection conversation that reached an outcome, as an anonymous count: the
    day, the area and the help asked for, never who or what was said. This is all
    that is kept when a person does not consent to a referral."""

    __tablename__ = "protection_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    help_type: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))  # referred, no_consent, no_unit


class CaseMessage(Base):
    """One entry of a case's timeline. ``direction`` says whose words these are:
    ``inbound`` (the reporter), ``outbound`` (a staff reply relayed to the reporter),
    ``note`` (internal, never sent) or ``event`` (a status change, an assignment)."""

    __tablename__ = "case_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Sealed)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
