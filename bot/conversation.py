"""Handling one inbound message, from receipt to replies in the outbox, in one transaction.

This is steps 3 to 7 of DESIGN.md's message path: drop duplicates, find the
contact, honour STOP and START, advance the session with the flow engine, and
write the new state and every reply before the caller commits. Channels call
``handle_inbound`` and acknowledge the provider only after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.contacts import find_or_create_contact
from bot.db import dialect_name
from bot.i18n import RTL_LANGUAGES, msg
from bot.messages import InboundMessage, OutboundMessage
from bot.models import Contact, ConversationSession, InboundReceipt
from bot.models.base import utcnow
from bot.outbox import to_contact
from bot.runtime import Runtime, TurnPorts
from bot.urns import parse
from flows.engine import Engine
from flows.ports import Turn
from flows.state import SessionState

EXPIRED = "_expired"
FORGET_EXPIRED_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class InboundOutcome:
    duplicate: bool = False
    contact_id: int | None = None
    replies: int = 0


async def record_receipt(db: AsyncSession, channel: str, provider_id: str) -> bool:
    """True the first time a provider message id is seen; False for a retry."""
    insert = pg_insert if dialect_name(db) == "postgresql" else sqlite_insert
    statement = (
        insert(InboundReceipt)
        .values(channel=channel, provider_id=provider_id[:128], received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
        .returning(InboundReceipt.id)
    )
    return (await db.execute(statement)).scalar() is not None


def _reply(runtime: Runtime, language: str, message_id: str) -> OutboundMessage:
    return OutboundMessage(
        text=runtime.catalogs.text(language, message_id),
        language=language,
        rtl=language in RTL_LANGUAGES,
    )


async def handle_inbound(
    db: AsyncSession, runtime: Runtime, message: InboundMessage
) -> InboundOutcome:
    """Handle one message inside the caller's transaction (the caller commits)."""
    if not await record_receipt(db, message.channel, message.provider_id):
        return InboundOutcome(duplicate=True)
    directory = await runtime.directories.get(db)
    contact, _ = await find_or_create_contact(db, parse(message.urn))
    now = utcnow()
    contact.last_inbound_at = now
    ports = TurnPorts(runtime, directory, db, contact)
    keyword = ports.keyword(message.text) if message.button is None else None
    language = contact.language or directory.default_language

    if keyword == "stop":
        await _end_session(db, contact)
        if not contact.opted_out:
            contact.opted_out, contact.opted_out_at = True, now
            to_contact(
                db, contact, _reply(runtime, language, msg("optout.confirmed")), kind="optout"
            )
            return InboundOutcome(contact_id=contact.id, replies=1)
        return InboundOutcome(contact_id=contact.id)
    if contact.opted_out:
        if keyword != "start":
            return InboundOutcome(contact_id=contact.id)
        contact.opted_out, contact.opted_out_at = False, None
        to_contact(db, contact, _reply(runtime, language, msg("optout.resumed")))

    row = await db.get(ConversationSession, contact.id)
    state, expired = None, False
    if row is not None:
        if row.expires_at <= now or row.flow == EXPIRED:
            expired = True
        else:
            state = SessionState.from_json(row.state)
    turn = Turn(
        contact_id=contact.id,
        language=contact.language,
        text=message.text,
        button=message.button,
        location=message.location,
        media=message.media,
    )
    result = await Engine(runtime.flows, ports).handle(turn, state, expired)
    if result.state is None:
        if row is not None:
            await db.delete(row)
    else:
        expires = now + timedelta(minutes=runtime.session_idle_minutes)
        if row is None:
            db.add(
                ConversationSession(
                    contact_id=contact.id,
                    flow=result.state.flow,
                    step=result.state.step,
                    state=result.state.to_json(),
                    updated_at=now,
                    expires_at=expires,
                )
            )
        else:
            row.flow, row.step, row.state = (
                result.state.flow,
                result.state.step,
                result.state.to_json(),
            )
            row.updated_at, row.expires_at = now, expires
    for reply in result.replies:
        to_contact(db, contact, reply)
    return InboundOutcome(contact_id=contact.id, replies=len(result.replies))


async def _end_session(db: AsyncSession, contact: Contact) -> None:
    await db.execute(
        delete(ConversationSession).where(ConversationSession.contact_id == contact.id)
    )


async def purge_expired_sessions(db: AsyncSession) -> int:
    """Half-finished answers are not kept past the idle time: minimal data.

    The row stays a while, emptied, so the person's next message still gets a
    polite "we started again" rather than a silent restart.
    """
    now = utcnow()
    scrubbed = await db.execute(
        update(ConversationSession)
        .where(ConversationSession.expires_at <= now, ConversationSession.flow != EXPIRED)
        .values(flow=EXPIRED, step=EXPIRED, state="{}")
    )
    await db.execute(
        delete(ConversationSession).where(
            ConversationSession.expires_at <= now - FORGET_EXPIRED_AFTER
        )
    )
    return int(getattr(scrubbed, "rowcount", 0) or 0)
