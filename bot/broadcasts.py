"""Broadcasts: an announcement to an audience, previewed, sent or scheduled, cancelled,
and followed to the last recipient.

Used by the staff API and pages and by a chair's /announce on Telegram, so the rules
(who may reach whom, the fallback language, quiet hours) are the same from every door.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audiences import broadcast_audience
from bot.directory import Directory
from bot.dispatch_texts import DispatchTexts
from bot.dispatcher import new_dispatch, stop_dispatches
from bot.models import Broadcast, Contact, Dispatch, OutboxMessage
from bot.models.base import table, utcnow
from channels.sms_segments import count_segments

Audience = Literal["forum", "area", "all"]
MAX_TEXT = 1000


class BroadcastError(ValueError):
    """A broadcast that cannot be sent as asked (said in plain words)."""


@dataclass(frozen=True)
class BroadcastDraft:
    audience: Audience
    texts: dict[str, str]  # language -> text
    fallback_language: str
    forum_id: int | None = None
    area_id: int | None = None
    languages: tuple[str, ...] = ()  # only people reading these (empty: all)
    channels: tuple[str, ...] = ()  # only people on these (empty: all)
    urgent: bool = False
    send_at: datetime | None = None  # None: now

    def check(self, d: Directory) -> None:
        texts = {k: v.strip() for k, v in self.texts.items() if v and v.strip()}
        if not texts:
            raise BroadcastError("write the announcement in at least one language")
        if unknown := set(texts) - set(d.languages):
            raise BroadcastError(f"not a language of this deployment: {', '.join(sorted(unknown))}")
        if self.fallback_language not in texts:
            raise BroadcastError("the fallback language must have a text")
        if any(len(text) > MAX_TEXT for text in texts.values()):
            raise BroadcastError(f"an announcement is at most {MAX_TEXT} characters")
        if self.audience == "forum" and self.forum_id not in d.forums:
            raise BroadcastError("choose a forum")
        if self.audience == "area" and self.area_id not in d.areas:
            raise BroadcastError("choose an area")


@dataclass
class Preview:
    recipients: int = 0
    stopped: int = 0
    by_language: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    fallback_readers: int = 0  # reading a language the announcement is not written in
    sms_segments: dict[str, int] = field(default_factory=dict)  # per language, one message
    seconds_to_send: float = 0.0


async def preview(
    db: AsyncSession,
    draft: BroadcastDraft,
    *,
    directory: Directory,
    texts: DispatchTexts,
    rates: dict[str, float],
) -> Preview:
    """Who would get it, in which language and channel, what it costs on SMS, and how
    long the providers' rate limits make it take."""
    draft.check(directory)
    probe = Broadcast(
        audience=draft.audience,
        forum_id=draft.forum_id,
        area_id=draft.area_id,
        languages=list(draft.languages),
        channels=list(draft.channels),
        fallback_language=draft.fallback_language,
    )
    audience = broadcast_audience(probe, draft.texts, directory)
    language = audience.language()
    rows = (
        await db.execute(
            audience.select(language, Contact.channel, Contact.opted_out, func.count()).group_by(
                language, Contact.channel, Contact.opted_out
            )
        )
    ).all()
    result = Preview()
    by_language: Counter[str] = Counter()
    by_channel: Counter[str] = Counter()
    for lang, channel, stopped, count in rows:
        if stopped:
            result.stopped += count
            continue
        by_language[lang] += count
        by_channel[channel] += count
    result.recipients = sum(by_channel.values())
    result.fallback_readers = sum(n for lang, n in by_language.items() if lang not in draft.texts)
    result.by_language, result.by_channel = dict(by_language), dict(by_channel)
    for lang in by_language:
        text = texts.render_broadcast(
            draft.texts, draft.fallback_language, lang, draft.forum_id, directory
        )
        result.sms_segments[lang] = count_segments(text).count
    result.seconds_to_send = max(
        (count / rates[channel] for channel, count in by_channel.items() if rates.get(channel)),
        default=0.0,
    )
    return result


async def create_broadcast(
    db: AsyncSession, draft: BroadcastDraft, *, directory: Directory, staff_id: int | None
) -> Broadcast:
    """Store the broadcast and its dispatch; the dispatcher sends it when due."""
    draft.check(directory)
    now = utcnow()
    broadcast = Broadcast(
        created_by_id=staff_id,
        audience=draft.audience,
        forum_id=draft.forum_id if draft.audience == "forum" else None,
        area_id=draft.area_id if draft.audience == "area" else None,
        languages=list(draft.languages),
        channels=list(draft.channels),
        texts=json.dumps({k: v.strip() for k, v in draft.texts.items() if v and v.strip()}),
        fallback_language=draft.fallback_language,
        urgent=draft.urgent,
        send_at=max(draft.send_at or now, now),
        created_at=now,
    )
    db.add(broadcast)
    await db.flush()
    await db.execute(
        insert(table(Dispatch)),
        [
            new_dispatch(
                kind="broadcast",
                broadcast_id=broadcast.id,
                due_at=broadcast.send_at,
                urgent=draft.urgent,
            )
        ],
    )
    return broadcast


async def cancel_broadcast(db: AsyncSession, *, broadcast_id: int) -> int:
    """Stop a broadcast: nothing more is queued, what waits is skipped (what a provider
    already has goes on). Returns how many messages will not be sent."""
    await db.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.cancelled_at.is_(None))
        .values(cancelled_at=utcnow())
    )
    dispatch_ids = select(Dispatch.id).where(Dispatch.broadcast_id == broadcast_id)
    return await stop_dispatches(db, dispatch_ids, "cancelled")


@dataclass
class Progress:
    status: str
    queued: int = 0  # rows written to the outbox so far
    waiting: int = 0  # queued, not yet handed to the provider (includes quiet hours)
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    held: int = 0  # WhatsApp outside the 24-hour window with no template
    skipped: dict[str, int] = field(default_factory=dict)  # why -> how many

    @property
    def done_share(self) -> float:
        handled = self.sent + self.failed + self.held + sum(self.skipped.values())
        return handled / self.queued if self.queued else (1.0 if self.status == "done" else 0.0)


async def dispatch_progress(db: AsyncSession, dispatch_ids: list[int], status: str) -> Progress:
    progress = Progress(status=status)
    rows = await db.execute(
        select(
            OutboxMessage.status,
            OutboxMessage.delivery_status,
            OutboxMessage.last_error,
            func.count(),
        )
        .where(OutboxMessage.dispatch_id.in_(dispatch_ids))
        .group_by(OutboxMessage.status, OutboxMessage.delivery_status, OutboxMessage.last_error)
    )
    skipped: Counter[str] = Counter()
    for state, delivery, why, count in rows.all():
        progress.queued += count
        if state in ("pending", "sending"):
            progress.waiting += count
        elif state == "sent" and delivery in ("failed", "undelivered"):
            progress.failed += count  # the provider took it and could not deliver it
        elif state == "sent":
            progress.sent += count
            if delivery in ("delivered", "read"):
                progress.delivered += count
        elif state == "failed":
            progress.failed += count
        elif state == "held":
            progress.held += count
        else:
            skipped[why or "skipped"] += count
    progress.skipped = dict(skipped)
    return progress


async def broadcast_progress(db: AsyncSession, *, broadcast_id: int) -> Progress:
    dispatches = (
        await db.execute(
            select(Dispatch.id, Dispatch.status).where(Dispatch.broadcast_id == broadcast_id)
        )
    ).all()
    status = dispatches[0].status if dispatches else "cancelled"
    return await dispatch_progress(db, [d.id for d in dispatches], status)
