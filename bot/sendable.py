"""What a claimed outbox row becomes before it is sent: a job (the address, the message
in the recipient's language, the envelope its channel needs), or a reason it must not
go, or, in the recipient's quiet hours, a time it may.

Read in one short transaction for a whole batch, so the sender then calls providers
with no database session held, and so that whatever changed since the row was queued
(the person said STOP, the broadcast was cancelled, the meeting is past) is what
decides, not what was true when it was queued.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.directory import Directory, DirectoryCache
from bot.dispatch_texts import DispatchTexts
from bot.messages import OutboundMessage
from bot.models import Contact, OutboxMessage, StaffUser
from bot.models.base import utcnow
from bot.quiet import may_send_at
from bot.urns import URN, parse
from channels.base import ERASE, NO_TEMPLATES, Channel, Envelope

SENDS_EVEN_WHEN_STOPPED = {"optout"}


@dataclass(frozen=True)
class Job:
    """One claimed row, read and resolved, ready to go out without the database."""

    row_id: int
    channel: str
    recipient_hash: str
    contact_id: int | None
    attempts: int
    urn: URN
    message: OutboundMessage
    envelope: Envelope


class JobReader:
    """Turns claimed rows into jobs, with the deployment's directory and texts."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: dict[str, Channel],
        directories: DirectoryCache,
        texts: DispatchTexts | None,
        quiet_hours: str,
    ) -> None:
        self.sessions = sessions
        self.channels = channels
        self.directories = directories
        self.texts = texts
        self.quiet_hours = quiet_hours

    async def read(self, ids: list[int]) -> list[Job]:
        """Read what to send and to whom, in one short transaction; skip the unsendable."""
        jobs: list[Job] = []
        async with self.sessions() as db, db.begin():
            directory = await self.directories.get(db)
            templates = directory.templates
            rows = {
                row.id: row
                for row in (
                    await db.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
                ).scalars()
            }
            for row_id in ids:
                row = rows.get(row_id)
                if row is None or row.status != "sending":
                    continue
                urn, why_not, envelope, area_id = await self._recipient(db, row)
                channel = self.channels.get(row.channel)
                if row.kind == ERASE and (channel is None or not channel.capabilities.erase):
                    urn, why_not = None, "this channel cannot take messages back"
                message: OutboundMessage | str | datetime = why_not
                if urn is not None:
                    message = (
                        OutboundMessage.from_json(row.payload)
                        if row.payload is not None
                        else await self._dispatched(db, row, area_id, directory)
                    )
                if isinstance(message, datetime):  # quiet hours: not an attempt
                    row.status, row.claimed_by, row.next_attempt_at = "pending", None, message
                    continue
                if urn is None or isinstance(message, str):
                    row.status, row.last_error = "skipped", str(message)
                    continue
                jobs.append(
                    Job(
                        row.id,
                        row.channel,
                        row.recipient_hash,
                        row.contact_id,
                        row.attempts,
                        urn,
                        message,
                        replace(envelope, templates=templates.get(row.channel, NO_TEMPLATES)),
                    )
                )
        return jobs

    async def _recipient(
        self, db: AsyncSession, row: OutboxMessage
    ) -> tuple[URN | None, str, Envelope, int | None]:
        """Where the row goes (None and why not, when it must not go), its envelope, and
        the contact's area (whose time zone and quiet hours apply)."""
        unknown = Envelope(kind=row.kind)
        if row.contact_id is not None:
            contact = await db.get(Contact, row.contact_id)
            if contact is None:
                return None, "contact deleted", unknown, None
            if contact.opted_out and row.kind not in SENDS_EVEN_WHEN_STOPPED:
                return None, "contact stopped", unknown, None
            seen = Envelope(kind=row.kind, last_inbound_at=contact.last_inbound_at, tracked=True)
            return parse(contact.urn), "", seen, contact.area_id
        if row.staff_id is None:
            if row.address:
                return parse(row.address), "", unknown, None
            return None, "no address", unknown, None
        staff = await db.get(StaffUser, row.staff_id)
        if staff is None or not staff.address or not staff.active:
            return None, "staff member has no address", unknown, None
        return parse(staff.address), "", unknown, None

    async def _dispatched(
        self, db: AsyncSession, row: OutboxMessage, area_id: int | None, d: Directory
    ) -> OutboundMessage | str | datetime:
        """A dispatch row's message for its recipient; or why it must not go (a string);
        or, in the recipient's quiet hours, when it may (a datetime)."""
        if self.texts is None or row.dispatch_id is None:
            return "nothing to send"
        source = await self.texts.source(db, row.dispatch_id, d)
        if source is None:
            return "what it announced is gone"
        now = utcnow()
        if source.expires_at is not None and now >= source.expires_at:
            return "too late to matter"
        if not source.urgent:
            release = may_send_at(d, area_id, now, self.quiet_hours)
            if release > now:
                return release
        language = row.language or d.default_language
        message = await self.texts.message(
            db, row.dispatch_id, language, d.timezone_of(area_id), row.part, d
        )
        return message if message is not None else "nothing to send"
