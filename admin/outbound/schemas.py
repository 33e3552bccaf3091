"""What the broadcasts, meetings and campaigns API takes and returns, apart from the tables.

Like ``admin/schemas.py``: no field for an address, a phone number or a chat id, so
nothing a serializer does can show staff who the recipients are. Places (forums,
areas, topics) are named by their keys, as the rest of the API names them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

ChannelName = Literal["telegram", "whatsapp", "sms", "console"]
LOCAL_OR_INSTANT = (
    "An ISO 8601 instant (with an offset, e.g. 2026-12-05T11:00:00Z), or a local date-time "
    "without one (2026-12-05T14:00), read in {where}'s time zone."
)


class BroadcastWrite(BaseModel):
    audience: Literal["forum", "area", "all"] = Field(
        description="forum: the forum's members; area: subscribers (forum members and topic "
        "subscribers) in the area and every area below it; all: every subscriber"
    )
    forum: str | None = Field(None, description="The forum's key, for audience 'forum'")
    area: str | None = Field(None, description="The area's key, for audience 'area'")
    texts: dict[str, str] = Field(
        description="The announcement per language code, at least one (at most 1,000 "
        "characters each)"
    )
    fallback_language: str = Field(
        description="Whose text goes to people reading a language it is not written in"
    )
    languages: list[str] = Field(
        default_factory=list, description="Only people reading these languages (empty: all)"
    )
    channels: list[ChannelName] = Field(
        default_factory=list, description="Only people on these channels (empty: all)"
    )
    urgent: bool = Field(False, description="Goes out in quiet hours too (default: waits)")
    send_at: datetime | None = Field(
        None,
        description=LOCAL_OR_INSTANT.format(where="the audience (the forum's or area's)")
        + " Empty: now.",
    )


class BroadcastPreview(BaseModel):
    recipients: int = Field(description="People it would be sent to (stopped ones excluded)")
    stopped: int = Field(description="People of the audience who said STOP: they get nothing")
    by_language: dict[str, int] = Field(description="Recipients per language they read")
    by_channel: dict[str, int] = Field(description="Recipients per channel")
    fallback_readers: int = Field(
        description="Recipients reading a language the announcement is not written in "
        "(they get the fallback language's text)"
    )
    sms_segments: dict[str, int] = Field(
        description="SMS segments one message costs, per language (as the network counts)"
    )
    seconds_to_send: float = Field(
        description="Estimated seconds to hand every message to the providers at their "
        "rate limits (the channels send side by side)"
    )


class Progress(BaseModel):
    status: str = Field(description="scheduled, materializing, sending, done, cancelled or expired")
    queued: int = Field(description="Messages written to the outbox so far")
    waiting: int = Field(description="Queued, not yet handed to a provider (quiet hours too)")
    sent: int = Field(description="Handed to a provider")
    delivered: int = Field(description="Of those sent, reported delivered (or read)")
    failed: int
    held: int = Field(description="WhatsApp outside the 24-hour window with no template")
    skipped: dict[str, int] = Field(description="Not sent, per reason (stopped, cancelled...)")
    done_share: float = Field(description="Share of the queued messages dealt with, 0 to 1")


class BroadcastSummary(BaseModel):
    id: int
    audience: Literal["forum", "area", "all"]
    forum: str | None
    area: str | None
    to: str = Field(description="Who it is for, in words")
    languages: list[str]
    channels: list[str]
    excerpt: str = Field(description="The start of the fallback language's text")
    urgent: bool
    send_at: datetime
    created_at: datetime
    created_by: str | None = Field(description="The staff member; none for a chair's /announce")
    cancelled_at: datetime | None
    status: str
    queued: int = Field(description="Messages written to the outbox so far")


class BroadcastDetail(BroadcastSummary):
    texts: dict[str, str]
    fallback_language: str
    progress: Progress


class BroadcastPage(BaseModel):
    items: list[BroadcastSummary]
    total: int
    page: int
    per_page: int


class MeetingWrite(BaseModel):
    forum: str = Field(description="The forum's key")
    starts_at: datetime = Field(description=LOCAL_OR_INSTANT.format(where="the forum"))
    place: str = Field(min_length=1, max_length=300)
    agenda: dict[str, str] = Field(default_factory=dict, description="Per language code")
    reminder_minutes: list[int] | None = Field(
        None,
        description="Reminders, in minutes before the start (default: BARAZA_REMINDER_MINUTES, "
        "24 hours and 2 hours)",
    )


class MeetingMove(BaseModel):
    starts_at: datetime = Field(description=LOCAL_OR_INSTANT.format(where="the forum"))
    place: str | None = Field(None, min_length=1, max_length=300, description="Empty: the same")


class Answers(BaseModel):
    yes: int
    no: int


class MeetingNotice(BaseModel):
    """A message about the meeting to its members: a reminder, or a word that it moved or
    was cancelled (to those already reminded)."""

    kind: Literal["reminder", "moved", "cancelled"]
    minutes_before: int | None
    due_at: datetime
    progress: Progress


class MeetingSummary(BaseModel):
    id: int
    forum: str
    forum_name: str
    starts_at: datetime
    local_time: str = Field(description="The start in the forum's time zone, in words")
    timezone: str
    place: str
    status: Literal["scheduled", "cancelled"]
    answers: Answers


class MeetingDetail(MeetingSummary):
    agenda: dict[str, str]
    reminder_minutes: list[int]
    created_at: datetime
    updated_at: datetime
    notices: list[MeetingNotice]


class MeetingList(BaseModel):
    upcoming: list[MeetingSummary] = Field(description="Soonest first")
    past: list[MeetingSummary] = Field(description="Most recent first (the last 50)")


class TopicPublic(BaseModel):
    id: int
    key: str
    names: dict[str, str]
    active: bool
    subscribers: int


class CampaignWrite(BaseModel):
    topic: str = Field(description="The topic's key: its subscribers receive the series")
    name: str = Field(min_length=1, max_length=200)
    parts: list[dict[str, str]] = Field(
        description="The series in order, at least one, each message per language code"
    )
    fallback_language: str
    weekday: int = Field(ge=0, le=6, description="0 Monday ... 6 Sunday, each person's local day")
    time: str = Field(
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, each person's local time"
    )


class Reach(BaseModel):
    subscribers: int = Field(description="Subscribers of the topic now")
    started: int = Field(description="People who have received at least one part")
    finished: int = Field(description="People who have received every part")


class CampaignSlot(BaseModel):
    """One week's message (or a send-now) for the subscribers of one time zone."""

    id: int
    timezone: str | None
    due_at: datetime
    progress: Progress


class CampaignSummary(BaseModel):
    id: int
    name: str
    topic: str
    topic_name: str
    parts: int
    weekday: int
    time: str
    active: bool
    created_at: datetime


class CampaignDetail(CampaignSummary):
    messages: list[dict[str, str]]
    fallback_language: str
    reach: Reach
    slots: list[CampaignSlot] = Field(description="The latest 30, newest first")


class SendNow(BaseModel):
    slots: int = Field(description="Time zones the next part was scheduled in, now")
