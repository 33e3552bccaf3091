"""Handling one inbound message, from receipt to replies in the outbox, in one transaction.

This is steps 3 to 7 of DESIGN.md's message path: drop duplicates, find the
contact, honour STOP and START, advance the session with the flow engine, and
write the new state and every reply before the caller commits. Channels call
``handle_inbound`` and acknowledge the provider only after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.contacts import (
    ContactRecord,
    StoredSession,
    find_or_create_contact,
    save_contact,
    stop_contact,
    urn_hash,
)
from bot.db import InsertIfAbsent
from bot.directory import Directory
from bot.floodgate import admit
from bot.i18n import RTL_LANGUAGES, msg
from bot.meetings import answer_for_meeting
from bot.messages import InboundMessage, OutboundMessage
from bot.models import ConversationSession, InboundReceipt, OutboxMessage
from bot.models.base import table, utcnow
from bot.outbox import to_contact
from bot.relay import answer_for_case
from bot.runtime import Runtime, TurnPorts
from bot.text import fold
from bot.urns import parse
from channels.base import ERASE
from flows.engine import Engine
from flows.ports import Keyword, Turn
from flows.state import SessionState

EXPIRED = "_expired"
KEYWORD_COMMANDS = {"start", "stop", "menu", "help", "language"}
CHAIR_COMMANDS = {"announce": "announce", "members": "members"}
TOUCH_EVERY = timedelta(seconds=60)  # last_inbound_at precision: enough for the 24-hour window
FORGET_EXPIRED_AFTER = timedelta(days=7)
KEEP_HELD = timedelta(days=7)


@dataclass(frozen=True)
class InboundOutcome:
    duplicate: bool = False
    contact_id: int | None = None
    replies: int = 0


_RECEIPT = InsertIfAbsent(table(InboundReceipt), ["channel", "provider_id"])


async def record_receipt(db: AsyncSession, channel: str, provider_id: str) -> bool:
    """True the first time a provider message id is seen; False for a retry."""
    values = {"channel": channel, "provider_id": provider_id[:128], "received_at": utcnow()}
    return await _RECEIPT(db, values) is not None


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
    contact, row, _ = await find_or_create_contact(db, parse(message.urn))
    with db.no_autoflush:  # actions' ORM writes flush once, at commit
        outcome = await _converse(db, runtime, directory, contact, row, message)
    await save_contact(db, contact)
    return outcome


async def _converse(
    db: AsyncSession,
    runtime: Runtime,
    directory: Directory,
    contact: ContactRecord,
    row: StoredSession | None,
    message: InboundMessage,
) -> InboundOutcome:
    now = utcnow()
    if contact.last_inbound_at is None or now - contact.last_inbound_at > TOUCH_EVERY:
        contact.last_inbound_at = now
        await release_held(db, contact.id, now)
    ports = TurnPorts(runtime, directory, db, contact)
    keyword, start = _intent(message, ports, directory, contact)
    verdict = admit(contact, now, runtime.inbound_per_minute)
    if verdict != "answer" and keyword not in ("stop", "start"):  # a flood: no reply storm
        if verdict == "quiet" or contact.opted_out:
            return InboundOutcome(contact_id=contact.id)
        language = contact.language or directory.default_language
        await to_contact(db, contact, _reply(runtime, language, msg("flood.slow_down")))
        return InboundOutcome(contact_id=contact.id, replies=1)
    if keyword is None and start is None and message.button is None and not message.edited:
        start = await answer_for_case(db, contact, message.text)  # "ACD-EFG thank you"
    if keyword is None and start is None and not message.edited and not contact.opted_out:
        live = row is not None and row.expires_at > now and row.flow != EXPIRED
        start = await answer_for_meeting(  # a reminder's button, or "1" / "yes" after one
            db,
            contact,
            message,
            catalogs=runtime.catalogs,
            languages=list(directory.languages),
            in_conversation=live,
        )
    language = contact.language or directory.default_language

    if keyword == "stop":
        await db.execute(_SESSION_DELETE, {"session_contact": contact.id})
        if not contact.opted_out:
            contact.opted_out, contact.opted_out_at = True, now
            await to_contact(
                db, contact, _reply(runtime, language, msg("optout.confirmed")), kind="optout"
            )
            return InboundOutcome(contact_id=contact.id, replies=1)
        return InboundOutcome(contact_id=contact.id)
    if contact.opted_out:
        if keyword != "start":
            return InboundOutcome(contact_id=contact.id)
        contact.opted_out, contact.opted_out_at = False, None
        await to_contact(db, contact, _reply(runtime, language, msg("optout.resumed")))

    state, expired = None, False
    if row is not None:
        if row.expires_at <= now or row.flow == EXPIRED:
            expired = True
        else:
            state = SessionState.from_json(row.state)
    turn = Turn(
        contact_id=contact.id,
        language=contact.language,
        language_detected=contact.language_detected,
        text=message.text,
        button=message.button,
        location=message.location,
        media=message.media,
        keyword=keyword,
        edited=message.edited,
    )
    result = await Engine(runtime.flows, ports).handle(turn, state, expired, start)
    if result.quick_exit:
        await erase_conversation(db, contact, result.left, message.message_ref, now)
    elif result.sensitive and result.state is not None and message.message_ref:
        result.state.vars.setdefault(TRAIL, []).append(message.message_ref)
    await save_state(db, runtime, contact.id, row, result.state, now)
    kind = "protection" if result.sensitive else "reply"
    await to_contact(db, contact, result.replies, kind=kind)
    return InboundOutcome(contact_id=contact.id, replies=len(result.replies))


TRAIL = "_trail"  # the person's own message ids in a sensitive flow, to erase on exit
ERASE_WITHIN = timedelta(hours=48)  # how long Telegram lets a bot delete in private chats


async def erase_conversation(
    db: AsyncSession,
    contact: ContactRecord,
    left: SessionState | None,
    last_ref: str | None,
    now: datetime,
) -> None:
    """A quick exit: protection replies not yet sent are dropped, and where the channel
    can take messages back, the bot's and the person's messages of the last 48 hours
    of protection conversation are erased."""
    outbox = table(OutboxMessage)
    mine = (outbox.c.contact_id == contact.id, outbox.c.kind == "protection")
    await db.execute(
        update(outbox)
        .where(*mine, outbox.c.status.in_(("pending", "held")))
        .values(status="skipped", last_error="quick exit", payload=_EMPTY)
    )
    sent = await db.execute(
        select(outbox.c.provider_message_id).where(
            *mine,
            outbox.c.status == "sent",
            outbox.c.provider_message_id.is_not(None),
            outbox.c.sent_at >= now - ERASE_WITHIN,
        )
    )
    refs = [ref for (ref,) in sent.all()]
    refs += list(left.vars.get(TRAIL, [])) if left is not None else []
    refs += [last_ref] if last_ref else []
    if refs:
        erase = OutboundMessage(text="", meta={ERASE: list(dict.fromkeys(refs))})
        await to_contact(db, contact, erase, kind=ERASE)


_EMPTY = OutboundMessage(text="").to_json()


def _intent(
    message: InboundMessage, ports: TurnPorts, directory: Directory, contact: ContactRecord
) -> tuple[Keyword | None, tuple[str, dict[str, Any]] | None]:
    """What the message asks for beyond answering the current step: a global keyword,
    or a flow of its own (a chair's command). Someone who is not a chair gets the
    ordinary menu, with no hint that chair commands exist."""
    command = message.command
    if command in KEYWORD_COMMANDS:
        return cast(Keyword, command), None
    if command in CHAIR_COMMANDS:
        if directory.chairs.get(contact.urn_hash):
            return None, (CHAIR_COMMANDS[command], {"announcement": message.text or None})
        return "menu", None
    if message.button is None and not message.edited:
        if fold(message.text) in directory.entry_words:  # a discreet word: protection
            return None, ("protect", {})
        return ports.keyword(message.text), None
    return None, None


_OUTBOX = table(OutboxMessage)
_RELEASE_HELD = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.contact_id == bindparam("held_contact"),
        _OUTBOX.c.status == "held",
        _OUTBOX.c.created_at >= bindparam("held_since"),
    )
    .values(status="pending", next_attempt_at=bindparam("held_now"), claimed_by=None)
)


async def release_held(db: AsyncSession, contact_id: int, now: datetime) -> None:
    """The person wrote: what waited for them (WhatsApp's window had closed) goes now,
    unless it is older than a week and no longer news."""
    await db.execute(
        _RELEASE_HELD,
        {"held_contact": contact_id, "held_since": now - KEEP_HELD, "held_now": now},
    )


_SESSIONS = table(ConversationSession)
_SESSION_WHERE = _SESSIONS.c.contact_id == bindparam("session_contact")
_SESSION_DELETE = delete(_SESSIONS).where(_SESSION_WHERE)
_SESSION_UPDATE = update(_SESSIONS).where(_SESSION_WHERE)
_SESSION_INSERT = insert(_SESSIONS)


async def save_state(
    db: AsyncSession,
    runtime: Runtime,
    contact_id: int,
    row: StoredSession | None,
    state: SessionState | None,
    now: datetime,
) -> None:
    """Persist the new state with one prebuilt Core statement (insert, update or delete)."""
    if state is None:
        if row is not None:
            await db.execute(_SESSION_DELETE, {"session_contact": contact_id})
        return
    values = {
        "flow": state.flow,
        "step": state.step,
        "state": state.to_json(),
        "updated_at": now,
        "expires_at": now + timedelta(minutes=runtime.session_idle_minutes),
    }
    if row is None:
        await db.execute(_SESSION_INSERT, {"contact_id": contact_id, **values})
    else:
        await db.execute(_SESSION_UPDATE, {"session_contact": contact_id, **values})


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


async def contact_blocked_us(db: AsyncSession, urn: str) -> bool:
    """The person blocked the bot (Telegram says so)."""
    return await stop_contact(db, hashed=urn_hash(parse(urn)))
