"""What a dispatch says to one recipient: rendered at send time, not stored per row.

A broadcast's outbox rows carry only the recipient, the language and (for a
campaign) the part of the series: the words are rendered here from the broadcast,
the meeting or the campaign, once per language, time zone and part, and cached. So
materializing writes no ciphertext per row, and a meeting's time is written in the
recipient's language and time zone by Babel.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory import Directory, pick_name
from bot.i18n import RTL_LANGUAGES, Catalogs, msg
from bot.messages import Choice, OutboundMessage
from bot.models import Broadcast, Campaign, Dispatch, Meeting, Topic

RSVP_YES, RSVP_NO = "yes", "no"


def rsvp_value(meeting_id: int, answer: str) -> str:
    """A reminder's button: short enough for Telegram's 64-byte callback data."""
    return f"rsvp:{meeting_id}:{answer}"


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def format_when(moment: datetime, language: str, zone: str) -> str:
    """ "Saturday 5 December, 14:00" in the reader's language and time zone."""
    local = moment.astimezone(ZoneInfo(zone))
    locale = _locale(language)
    day = format_date(local, "full", locale=locale)
    hour = format_time(local, "short", locale=locale)
    pattern = str(locale.datetime_formats.get("medium", "{1} {0}"))
    return pattern.replace("{1}", day).replace("{0}", hour)


@dataclass(frozen=True)
class Source:
    """A dispatch and what it belongs to, as rendering needs them."""

    kind: str
    expires_at: datetime | None
    urgent: bool
    sender: dict[str, str]  # the forum's or programme's name per language
    texts: dict[str, str]  # broadcast: text per language
    parts: list[dict[str, str]]  # campaign: the series
    fallback: str
    meeting: dict[str, Any]  # reminder and change notices


class DispatchTexts:
    def __init__(self, catalogs: Catalogs, max_entries: int = 2048) -> None:
        self.catalogs = catalogs
        self.max_entries = max_entries
        self._sources: OrderedDict[int, Source] = OrderedDict()
        self._messages: OrderedDict[tuple[Any, ...], OutboundMessage] = OrderedDict()

    async def source(self, db: AsyncSession, dispatch_id: int, d: Directory) -> Source | None:
        found = self._sources.get(dispatch_id)
        if found is None:
            found = await _load(db, dispatch_id, d)
            if found is None:
                return None
            self._sources[dispatch_id] = found
            if len(self._sources) > self.max_entries:
                self._sources.popitem(last=False)
        return found

    async def message(
        self,
        db: AsyncSession,
        dispatch_id: int,
        language: str,
        zone: str,
        part: int | None,
        d: Directory,
    ) -> OutboundMessage | None:
        key = (dispatch_id, language, zone, part)
        cached = self._messages.get(key)
        if cached is not None:
            return cached
        source = await self.source(db, dispatch_id, d)
        if source is None:
            return None
        rendered = self._render(source, dispatch_id, language, zone, part, d)
        if rendered is not None:
            self._messages[key] = rendered
            if len(self._messages) > self.max_entries:
                self._messages.popitem(last=False)
        return rendered

    def announcement(self, language: str, sender: str, text: str) -> str:
        return self.catalogs.text(language, msg("announce.message"), forum=sender, text=text)

    def render_broadcast(
        self,
        texts: dict[str, str],
        fallback: str,
        language: str,
        forum_id: int | None,
        d: Directory,
    ) -> str:
        """What a broadcast would say to a reader of ``language`` (for previews)."""
        forum = d.forums.get(forum_id) if forum_id is not None else None
        sender = d.localized(forum.names, language) if forum else d.name
        return self.announcement(language, sender, pick_name(texts, language, fallback))

    def _render(
        self,
        source: Source,
        dispatch_id: int,
        language: str,
        zone: str,
        part: int | None,
        d: Directory,
    ) -> OutboundMessage | None:
        t = self.catalogs.text
        sender = d.localized(source.sender, language) if source.sender else d.name
        choices: tuple[Choice, ...] = ()
        meta: dict[str, Any] = {"forum": sender}
        if source.kind == "broadcast":
            text = pick_name(source.texts, language, source.fallback)
            meta["announcement"] = text
            body = self.announcement(language, sender, text)
        elif source.kind == "campaign":
            if part is None or not 0 <= part < len(source.parts):
                return None
            text = pick_name(source.parts[part], language, source.fallback)
            meta["text"] = text
            body = t(language, msg("campaign.message"), topic=sender, text=text)
        else:
            m = source.meeting
            when = format_when(datetime.fromisoformat(m["starts_at"]), language, zone)
            agenda = pick_name(m["agenda"], language, d.default_language) if m["agenda"] else ""
            meta.update(when=when, place=m["place"])
            if source.kind == "reminder":
                body = t(
                    language, msg("meeting.reminder"), forum=sender, when=when, place=m["place"]
                )
                if agenda:
                    body += "\n" + t(language, msg("meeting.agenda"), agenda=agenda)
                body += "\n" + t(language, msg("meeting.will_you_come"))
                choices = (
                    Choice(rsvp_value(m["id"], RSVP_YES), t(language, msg("common.yes"))),
                    Choice(rsvp_value(m["id"], RSVP_NO), t(language, msg("common.no"))),
                )
            elif m.get("change") == "cancelled":
                body = t(language, msg("meeting.cancelled"), forum=sender, when=when)
            else:
                body = t(language, msg("meeting.moved"), forum=sender, when=when, place=m["place"])
        return OutboundMessage(
            text=body,
            choices=choices,
            language=language,
            rtl=language in RTL_LANGUAGES,
            meta=meta,
        )


async def _load(db: AsyncSession, dispatch_id: int, d: Directory) -> Source | None:
    dispatch = await db.get(Dispatch, dispatch_id)
    if dispatch is None:
        return None

    def forum_names(forum_id: int | None) -> dict[str, str]:
        forum = d.forums.get(forum_id) if forum_id is not None else None
        return dict(forum.names) if forum else {}

    empty: dict[str, Any] = {}
    if dispatch.broadcast_id is not None:
        broadcast = await db.get(Broadcast, dispatch.broadcast_id)
        if broadcast is None:
            return None
        return Source(
            "broadcast",
            dispatch.expires_at,
            dispatch.urgent,
            forum_names(broadcast.forum_id),
            json.loads(broadcast.texts),
            [],
            broadcast.fallback_language,
            empty,
        )
    if dispatch.campaign_id is not None:
        campaign = await db.get(Campaign, dispatch.campaign_id)
        topic = await db.get(Topic, campaign.topic_id) if campaign else None
        if campaign is None or topic is None:
            return None
        return Source(
            "campaign",
            dispatch.expires_at,
            dispatch.urgent,
            dict(topic.names),
            {},
            list(campaign.parts),
            campaign.fallback_language,
            empty,
        )
    meeting = await db.get(Meeting, dispatch.meeting_id) if dispatch.meeting_id else None
    if meeting is None:
        return None
    details = {
        "id": meeting.id,
        "starts_at": (dispatch.detail.get("starts_at") or meeting.starts_at.isoformat()),
        "place": dispatch.detail.get("place") or meeting.place,
        "agenda": dict(meeting.agenda or {}),
        "change": dispatch.detail.get("change"),
    }
    return Source(
        dispatch.kind,
        dispatch.expires_at,
        dispatch.urgent,
        forum_names(meeting.forum_id),
        {},
        [],
        d.default_language,
        details,
    )
