"""Who a dispatch is for, as one SQL query over the contacts.

Materializing a 100,000-recipient broadcast must not load 100,000 contacts into a
process: the audience is a ``SELECT`` that ``INSERT ... SELECT`` copies into the
outbox, batch by batch, inside the database. Each row carries what the sender needs
later and cannot cheaply find then: the language the person reads (theirs when the
message has it, else the fallback) and, for a campaign, which part of the series
they are at.

Subscribers, for audiences wider than one forum, are the people who asked for news:
forum members and topic subscribers. Someone who once reported a concern is not
sent announcements they never asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.sql import Select

from bot.directory import Directory
from bot.models import (
    Broadcast,
    Campaign,
    CampaignProgress,
    Contact,
    Dispatch,
    ForumMember,
    Meeting,
    OutboxMessage,
    TopicSubscription,
)


@dataclass(frozen=True)
class Audience:
    """The people a dispatch goes to and, per person, the language and part they get."""

    who: ColumnElement[bool]  # a condition on Contact
    languages: tuple[str, ...]  # the languages the message is written in
    fallback: str
    default_language: str
    campaign_id: int | None = None  # campaigns: each person is at their own part

    def part(self) -> ColumnElement[int] | None:
        if self.campaign_id is None:
            return None
        return func.coalesce(CampaignProgress.next_part, 0)

    def language(self) -> ColumnElement[str]:
        """The language each person reads: the message's frame (and its WhatsApp
        template) is in it; its text is theirs if written in it, else the fallback."""
        return func.coalesce(Contact.language, self.default_language)

    def select(self, *columns: Any) -> Select[Any]:
        query = select(*columns).select_from(Contact)
        if self.campaign_id is not None:
            query = query.outerjoin(
                CampaignProgress,
                and_(
                    CampaignProgress.contact_id == Contact.id,
                    CampaignProgress.campaign_id == self.campaign_id,
                ),
            )
        return query.where(self.who)


def subscribers() -> ColumnElement[bool]:
    return or_(
        Contact.id.in_(select(ForumMember.contact_id)),
        Contact.id.in_(select(TopicSubscription.contact_id)),
    )


def forum_members(forum_id: int) -> ColumnElement[bool]:
    return Contact.id.in_(select(ForumMember.contact_id).where(ForumMember.forum_id == forum_id))


def in_areas(area_ids: Iterable[int], include_unknown: bool = False) -> ColumnElement[bool]:
    ids = list(area_ids)
    inside = Contact.area_id.in_(ids) if ids else false()
    return or_(inside, Contact.area_id.is_(None)) if include_unknown else inside


def broadcast_audience(broadcast: Broadcast, texts: dict[str, str], d: Directory) -> Audience:
    if broadcast.audience == "forum" and broadcast.forum_id is not None:
        who = forum_members(broadcast.forum_id)
    elif broadcast.audience == "area" and broadcast.area_id is not None:
        who = and_(subscribers(), in_areas(d.descendants(broadcast.area_id)))
    else:
        who = subscribers()
    reads = func.coalesce(Contact.language, d.default_language)
    if broadcast.languages:
        who = and_(who, reads.in_(broadcast.languages))
    if broadcast.channels:
        who = and_(who, Contact.channel.in_(broadcast.channels))
    return Audience(who, tuple(texts), broadcast.fallback_language, d.default_language)


def meeting_audience(dispatch: Dispatch, meeting: Meeting, d: Directory) -> Audience:
    """Reminders go to the forum's members; a change of time or a cancellation goes
    to those a reminder already reached (the others will get the new reminders)."""
    if dispatch.kind == "reminder":
        who = forum_members(meeting.forum_id)
    else:
        reminded = (
            select(OutboxMessage.contact_id)
            .join(Dispatch, Dispatch.id == OutboxMessage.dispatch_id)
            .where(
                Dispatch.meeting_id == meeting.id,
                Dispatch.kind == "reminder",
                OutboxMessage.status == "sent",
            )
        )
        who = Contact.id.in_(reminded)
    languages = tuple(d.languages)  # reminders come from the catalogs: every language
    return Audience(who, languages, d.default_language, d.default_language)


def campaign_audience(dispatch: Dispatch, campaign: Campaign, d: Directory) -> Audience:
    """This slot's subscribers of the campaign's topic in the slot's time zone, who have
    parts of the series left."""
    zone = dispatch.timezone or d.home_timezone
    here = [a for a in d.areas if d.timezone_of(a) == zone]
    part = func.coalesce(CampaignProgress.next_part, 0)
    who = and_(
        Contact.id.in_(
            select(TopicSubscription.contact_id).where(
                TopicSubscription.topic_id == campaign.topic_id
            )
        ),
        in_areas(here, include_unknown=zone == d.home_timezone),
        part < len(campaign.parts),
    )
    languages = tuple(sorted({lang for texts in campaign.parts for lang in texts}))
    return Audience(who, languages, campaign.fallback_language, d.default_language, campaign.id)
