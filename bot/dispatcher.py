"""The timing engine: what is due goes out, once, even with several processes.

Every tick (APScheduler, ``BARAZA_TICK_SECONDS``, and sooner when something is due
sooner) does four things against the database, which alone knows what is due:

1. plans the next weekly slot of each campaign, per time zone (a unique key makes
   two processes planning the same slot agree);
2. expires what is too late to matter (a reminder for a meeting already begun),
   counting it rather than sending it late;
3. claims due dispatches with one conditional update: a process wins a dispatch
   or does not, and a claim that stops being renewed (its process died) is taken
   over and resumes at its cursor;
4. materializes each claimed dispatch into the outbox in batches of ``batch``
   contacts, each batch one transaction that also moves the cursor; the unique
   ``(dispatch_id, contact_id)`` index makes a repeated batch insert nothing.

The sender then drains the rows like any other, within the providers' limits.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, null, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.audiences import (
    Audience,
    broadcast_audience,
    campaign_audience,
    meeting_audience,
)
from bot.db import dialect_insert, dialect_name
from bot.directory import Directory, DirectoryCache
from bot.models import (
    Broadcast,
    Campaign,
    CampaignProgress,
    Contact,
    Dispatch,
    Meeting,
    OutboxMessage,
)
from bot.models.base import table, utcnow
from bot.models.outbox import PRIORITY_BULK, PRIORITY_NOTIFICATION
from bot.quiet import may_send_at
from bot.schedule import next_weekly_slot

log = logging.getLogger(__name__)

# What each dispatch is called in the outbox (WhatsApp templates are chosen by it),
# and how it ranks against replies and case notifications.
OUTBOX_KIND = {
    "broadcast": "announcement",
    "reminder": "reminder",
    "meeting": "meeting",
    "campaign": "campaign",
}
PRIORITY = {
    "broadcast": PRIORITY_BULK,
    "campaign": PRIORITY_BULK,
    "reminder": PRIORITY_NOTIFICATION,
    "meeting": PRIORITY_NOTIFICATION,
}
LIVE = ("scheduled", "materializing", "sending")
# The outbox columns a dispatch's rows fill, in the order its audience query selects them.
OUTBOX_COLUMNS = (
    "channel",
    "contact_id",
    "recipient_hash",
    "kind",
    "priority",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
    "dispatch_id",
    "language",
    "part",
    "last_error",
)
CAMPAIGN_SLOT_GRACE = timedelta(hours=12)  # a weekly message later than this waits a week


@dataclass
class TickReport:
    planned: int = 0
    expired: int = 0
    queued: dict[int, int] = field(default_factory=dict)  # dispatch id -> rows written
    finished: int = 0


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        directories: DirectoryCache | None = None,
        *,
        quiet_hours: str = "21:00-07:00",
        batch: int = 5000,
        claim_timeout: timedelta = timedelta(minutes=1),
        worker_id: str | None = None,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.directories = directories or DirectoryCache()
        self.quiet_hours = quiet_hours
        self.batch = batch
        self.claim_timeout = claim_timeout
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.on_queued = on_queued or (lambda: None)

    async def tick(self) -> TickReport:
        report = TickReport()
        now = utcnow()
        report.planned = await self._plan_campaigns(now)
        report.expired = await self._expire(now)
        for dispatch_id in await self._claim(now):
            report.queued[dispatch_id] = await self.materialize(dispatch_id)
        report.finished = await self._finish()
        if report.expired:
            log.warning("%d dispatches were too late to matter and were skipped", report.expired)
        return report

    async def next_due(self) -> datetime | None:
        """When the next scheduled dispatch falls due (for waking up on time)."""
        async with self.sessions() as db:
            return await db.scalar(
                select(func.min(Dispatch.due_at)).where(Dispatch.status == "scheduled")
            )

    async def _plan_campaigns(self, now: datetime) -> int:
        planned = 0
        async with self.sessions() as db, db.begin():
            directory = await self.directories.get(db)
            campaigns = (await db.execute(select(Campaign).where(Campaign.active))).scalars()
            rows = [
                {
                    "kind": "campaign",
                    "campaign_id": campaign.id,
                    "timezone": zone,
                    "due_at": (slot := next_weekly_slot(now, zone, campaign)),
                    "expires_at": slot + CAMPAIGN_SLOT_GRACE,
                    **_NEW,
                }
                for campaign in campaigns
                for zone in directory.timezones
            ]
            statement = _insert_ignoring(db, Dispatch).returning(table(Dispatch).c.id)
            for row in rows:  # one by one: a few campaigns times a few zones
                planned += (await db.execute(statement, row)).first() is not None
        return planned

    async def _expire(self, now: datetime) -> int:
        async with self.sessions() as db, db.begin():
            result = await db.execute(
                update(Dispatch)
                .where(Dispatch.status == "scheduled", Dispatch.expires_at <= now)
                .values(status="expired", finished_at=now)
            )
            return result.rowcount or 0  # type: ignore[attr-defined]

    async def _claim(self, now: datetime) -> list[int]:
        claimable = or_(
            and_(Dispatch.status == "scheduled", Dispatch.due_at <= now),
            and_(
                Dispatch.status == "materializing",
                Dispatch.claimed_at < now - self.claim_timeout,
            ),
        )
        async with self.sessions() as db, db.begin():
            ids = list(
                (
                    await db.execute(
                        select(Dispatch.id).where(claimable).order_by(Dispatch.due_at).limit(20)
                    )
                ).scalars()
            )
            if not ids:
                return []
            won = await db.execute(
                update(Dispatch)
                .where(Dispatch.id.in_(ids), claimable)
                .values(
                    status="materializing",
                    claimed_by=self.worker_id,
                    claimed_at=now,
                    started_at=func.coalesce(Dispatch.started_at, now),
                )
                .returning(Dispatch.id)
            )
            return sorted(won.scalars())

    async def materialize(self, dispatch_id: int) -> int:
        """Copy a claimed dispatch's audience into the outbox, batch after batch; returns
        the rows written. Stops when the claim is lost (cancelled, or taken over)."""
        written = 0
        while True:
            async with self.sessions() as db, db.begin():
                dispatch = await db.get(Dispatch, dispatch_id, with_for_update=_lock(db))
                if (
                    dispatch is None
                    or dispatch.status != "materializing"
                    or dispatch.claimed_by != self.worker_id
                ):
                    return written
                directory = await self.directories.get(db)
                audience = await _audience_of(db, dispatch, directory)
                done, count = await self._batch(db, dispatch, audience, directory)
                written += count
            if count:
                self.on_queued()
            if done:
                return written

    async def _batch(
        self, db: AsyncSession, dispatch: Dispatch, audience: Audience | None, d: Directory
    ) -> tuple[bool, int]:
        now = utcnow()
        if audience is None:  # what it belonged to is gone or cancelled
            dispatch.status, dispatch.finished_at = "cancelled", now
            return True, 0
        after = Contact.id > dispatch.cursor
        upper = await db.scalar(
            audience.select(Contact.id)
            .where(after)
            .order_by(Contact.id)
            .offset(self.batch - 1)
            .limit(1)
        )
        within = and_(after, Contact.id <= upper) if upper is not None else after
        stopped = Contact.opted_out
        part = audience.part()
        rows = audience.select(
            Contact.channel,
            Contact.id,
            Contact.urn_hash,
            literal(OUTBOX_KIND[dispatch.kind]),
            literal(_priority(dispatch)),
            case((stopped == true(), literal("skipped")), else_=literal("pending")),
            literal(0),
            self._release(dispatch, d, now),
            literal(now),
            literal(dispatch.id),
            audience.language(),
            part if part is not None else null(),
            case((stopped == true(), literal("contact stopped")), else_=null()),
        ).where(within)
        result = await db.execute(
            _insert_ignoring(db, OutboxMessage, ["dispatch_id", "contact_id"]).from_select(
                OUTBOX_COLUMNS, rows
            )
        )
        count = max(0, result.rowcount or 0)  # type: ignore[attr-defined]
        if dispatch.campaign_id is not None:
            await _advance_series(db, dispatch, within_ids=(dispatch.cursor, upper))
        dispatch.queued += count
        dispatch.claimed_at = now  # still alive: nobody takes this claim over
        if upper is None:
            dispatch.status = "sending"
            return True, count
        dispatch.cursor = upper
        return False, count

    def _release(self, dispatch: Dispatch, d: Directory, now: datetime) -> Any:
        """When each recipient's row may go: now, or when their area's quiet hours end."""
        if dispatch.urgent:
            return literal(now)
        by_area = {a: may_send_at(d, a, now, self.quiet_hours) for a in d.areas}
        unknown = may_send_at(d, None, now, self.quiet_hours)
        later = {a: t for a, t in by_area.items() if t != unknown}
        if not later:
            return literal(unknown)
        return case(
            *((Contact.area_id == area_id, literal(t)) for area_id, t in later.items()),
            else_=literal(unknown),
        )

    async def _finish(self) -> int:
        """Dispatches with nothing left to send are done."""
        async with self.sessions() as db, db.begin():
            waiting = exists().where(
                OutboxMessage.dispatch_id == Dispatch.id,
                OutboxMessage.status.in_(("pending", "sending")),
            )
            result = await db.execute(
                update(Dispatch)
                .where(Dispatch.status == "sending", ~waiting)
                .values(status="done", finished_at=utcnow())
            )
            return result.rowcount or 0  # type: ignore[attr-defined]


_NEW: dict[str, Any] = {
    "status": "scheduled",
    "urgent": False,
    "detail": {},
    "cursor": 0,
    "queued": 0,
}


def _priority(dispatch: Dispatch) -> int:
    """How its rows rank in the sender's queue. Urgent news ranks with notifications: it
    goes in quiet hours, so it must not wait behind bulk held for the morning."""
    return PRIORITY_NOTIFICATION if dispatch.urgent else PRIORITY[dispatch.kind]


def new_dispatch(**values: Any) -> dict[str, Any]:
    """The column values of a dispatch to insert (with the defaults Core does not fill)."""
    return {**_NEW, "created_at": utcnow(), **values}


async def stop_dispatches(
    db: AsyncSession, dispatch_ids: Any, why: str, *, statuses: tuple[str, ...] = LIVE
) -> int:
    """Stop dispatches (a cancelled broadcast or meeting, a paused campaign): those in
    `statuses` end as cancelled, and what still waits in the outbox is skipped with the
    reason `why` (what a provider already has goes on). Returns how many were skipped."""
    now = utcnow()
    await db.execute(
        update(Dispatch)
        .where(Dispatch.id.in_(dispatch_ids), Dispatch.status.in_(statuses))
        .values(status="cancelled", finished_at=now)
    )
    skipped = await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.dispatch_id.in_(dispatch_ids), OutboxMessage.status == "pending")
        .values(status="skipped", last_error=why)
    )
    return skipped.rowcount or 0  # type: ignore[attr-defined]


def _lock(db: AsyncSession) -> bool:
    return dialect_name(db) == "postgresql"


def _insert_ignoring(db: AsyncSession, model: Any, conflict: list[str] | None = None) -> Any:
    return dialect_insert(db)(table(model)).on_conflict_do_nothing(index_elements=conflict)


async def _audience_of(db: AsyncSession, dispatch: Dispatch, d: Directory) -> Audience | None:
    if dispatch.broadcast_id is not None:
        broadcast = await db.get(Broadcast, dispatch.broadcast_id)
        if broadcast is None or broadcast.cancelled_at is not None:
            return None
        return broadcast_audience(broadcast, json.loads(broadcast.texts), d)
    if dispatch.meeting_id is not None:
        meeting = await db.get(Meeting, dispatch.meeting_id)
        if meeting is None or (meeting.status == "cancelled" and dispatch.kind == "reminder"):
            return None
        return meeting_audience(dispatch, meeting, d)
    if dispatch.campaign_id is not None:
        campaign = await db.get(Campaign, dispatch.campaign_id)
        if campaign is None or not campaign.active:
            return None
        return campaign_audience(dispatch, campaign, d)
    return None


async def _advance_series(
    db: AsyncSession, dispatch: Dispatch, within_ids: tuple[int, int | None]
) -> None:
    """Each subscriber this batch reached moves on to the next part of the series."""
    low, high = within_ids
    reached = select(
        literal(dispatch.campaign_id), OutboxMessage.contact_id, OutboxMessage.part + 1
    ).where(
        OutboxMessage.dispatch_id == dispatch.id,
        OutboxMessage.status == "pending",
        OutboxMessage.contact_id > low,
        OutboxMessage.contact_id <= high if high is not None else true(),
    )
    statement = dialect_insert(db)(table(CampaignProgress)).from_select(
        ["campaign_id", "contact_id", "next_part"], reached
    )
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=["campaign_id", "contact_id"],
            set_={"next_part": statement.excluded.next_part},
        )
    )
