"""What the system starts saying on its own: broadcasts, meetings, campaigns, and the
dispatches that carry each of them to an audience.

A *dispatch* is one thing due at one time for one audience (a broadcast, a meeting's
24-hour reminder, this week's campaign message for one time zone). The tick claims a
due dispatch with a conditional update and materializes its recipients into the outbox
in batches with ``INSERT ... SELECT``; the unique ``(dispatch_id, contact_id)`` index on
the outbox is what makes "one copy per person" hold across retries, crashes and
processes. What a dispatch says is kept here, per language, and rendered per recipient
when it is sent, so materializing never encrypts or holds 100,000 messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, Sealed, UTCDateTime, utcnow


class Topic(Base):
    """A subject of awareness messages a contact can subscribe to."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    names: Mapped[dict[str, str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TopicSubscription(Base):
    __tablename__ = "topic_subscriptions"

    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Broadcast(Base):
    """An announcement: who it is for, what it says per language, when it goes."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    # forum (its members), area (subscribers there and below) or all (every subscriber)
    audience: Mapped[str] = mapped_column(String(10))
    forum_id: Mapped[int | None] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every language
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every channel
    texts: Mapped[str] = mapped_column(Sealed)  # JSON {language: text}
    fallback_language: Mapped[str] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)  # goes in quiet hours too
    send_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))  # the place's, for the members
    place: Mapped[str] = mapped_column(String(300))
    agenda: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # per language
    reminder_minutes: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")  # or cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MeetingAnswer(Base):
    """A member's yes or no to a meeting; the last answer counts."""

    __tablename__ = "meeting_answers"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    attending: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Campaign(Base):
    """A series of awareness messages to a topic's subscribers, one per weekly slot,
    each subscriber getting the series in order from the part they have reached."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    parts: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # [{language: text}, ...]
    fallback_language: Mapped[str] = mapped_column(String(16))
    weekday: Mapped[int] = mapped_column(Integer)  # 0 Monday ... 6 Sunday, local
    minute_of_day: Mapped[int] = mapped_column(Integer)  # local time, 0..1439
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignProgress(Base):
    """How far one subscriber is in a campaign's series: the part they get next."""

    __tablename__ = "campaign_progress"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    next_part: Mapped[int] = mapped_column(Integer, default=0)


class Dispatch(Base):
    __tablename__ = "dispatches"
    __table_args__ = (
        Index("ix_dispatches_due", "status", "due_at"),
        # One slot per campaign, time zone and time: processes racing to plan it agree.
        UniqueConstraint("campaign_id", "timezone", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # broadcast, reminder, meeting, campaign
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True
    )
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    timezone: Mapped[str | None] = mapped_column(String(64))  # a campaign slot's zone
    # What a meeting notice says: "reminder", "moved" or "cancelled", with its details.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # too late to matter
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # scheduled -> materializing -> sending -> done; or cancelled, or expired
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cursor: Mapped[int] = mapped_column(Integer, default=0)  # last contact id materialized
    queued: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
