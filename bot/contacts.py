"""Finding a contact by address without ever storing or comparing the address in clear.

This is on the path of every inbound message, so the contact and its session are
read with one Core query into a ``ContactRecord`` that remembers which fields a
step changed; only those are written back, in one statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import InsertIfAbsent, dialect_name
from bot.models import Contact, ConversationSession
from bot.models.base import table, utcnow
from bot.privacy import vault
from bot.urns import URN

CONTACTS = table(Contact)
SESSIONS = table(ConversationSession)
TRACKED = frozenset(
    {
        "language",
        "language_detected",
        "opted_out",
        "opted_out_at",
        "last_inbound_at",
        "area_id",
        "flood_started_at",
        "flood_count",
        "flood_noticed",
    }
)


def urn_hash(urn: URN) -> str:
    return vault().lookup_hash(str(urn))


async def stop_contact(
    db: AsyncSession, *, contact_id: int | None = None, hashed: str | None = None
) -> bool:
    """Stop every message to a contact the provider says is gone (blocked the bot,
    unsubscribed), as STOP would, without a confirmation that could not arrive.
    True if they were reachable until now."""
    which = Contact.id == contact_id if contact_id is not None else Contact.urn_hash == hashed
    stopped = await db.execute(
        update(Contact)
        .where(which, Contact.opted_out.is_(False))
        .values(opted_out=True, opted_out_at=utcnow())
    )
    return bool(getattr(stopped, "rowcount", 0))


@dataclass
class StoredSession:
    flow: str
    state: str
    expires_at: datetime


@dataclass
class ContactRecord:
    """A contact as one message sees it; assignments to tracked fields are remembered."""

    id: int
    urn_hash: str
    channel: str
    language: str | None
    opted_out: bool
    opted_out_at: datetime | None
    last_inbound_at: datetime | None
    area_id: int | None
    flood_started_at: datetime | None = None
    flood_count: int = 0
    flood_noticed: bool = False
    language_detected: bool = False
    changed: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in TRACKED and "changed" in self.__dict__ and getattr(self, name) != value:
            self.changed[name] = value
        super().__setattr__(name, value)


async def save_contact(db: AsyncSession, contact: ContactRecord) -> None:
    if contact.changed:
        await db.execute(
            update(CONTACTS).where(CONTACTS.c.id == contact.id).values(**contact.changed)
        )
        contact.changed.clear()


_COLUMNS = [CONTACTS.c[name] for name in ContactRecord.__dataclass_fields__ if name != "changed"]


# Built once: constructing a statement costs more than executing it on SQLite.
_LOAD = (
    select(*_COLUMNS, SESSIONS.c.flow, SESSIONS.c.state, SESSIONS.c.expires_at)
    .select_from(CONTACTS.outerjoin(SESSIONS, SESSIONS.c.contact_id == CONTACTS.c.id))
    .where(CONTACTS.c.urn_hash == bindparam("hashed"))
)
_LOAD_LOCKED = _LOAD.with_for_update(of=CONTACTS)
_CREATE = InsertIfAbsent(CONTACTS, ["urn_hash"])


async def _load(db: AsyncSession, hashed: str) -> tuple[ContactRecord, StoredSession | None] | None:
    query = _LOAD_LOCKED if dialect_name(db) == "postgresql" else _LOAD
    found = (await db.execute(query, {"hashed": hashed})).first()
    if found is None:
        return None
    values = found._mapping
    contact = ContactRecord(**{c.name: values[c] for c in _COLUMNS})
    session = None
    if values[SESSIONS.c.flow] is not None:
        session = StoredSession(
            values[SESSIONS.c.flow], values[SESSIONS.c.state], values[SESSIONS.c.expires_at]
        )
    return contact, session


async def load_contact(
    db: AsyncSession, contact_id: int
) -> tuple[ContactRecord, StoredSession | None] | None:
    """A contact and its session by id (locked on PostgreSQL), for messages we start."""
    hashed = await db.scalar(select(CONTACTS.c.urn_hash).where(CONTACTS.c.id == contact_id))
    return None if hashed is None else await _load(db, hashed)


async def find_or_create_contact(
    db: AsyncSession, urn: URN
) -> tuple[ContactRecord, StoredSession | None, bool]:
    """The contact for this address (locked on PostgreSQL), its session, and if it is new."""
    hashed = urn_hash(urn)
    found = await _load(db, hashed)
    if found is not None:
        return found[0], found[1], False
    # ON CONFLICT DO NOTHING: if another process created it a moment ago, use theirs.
    values = {
        "urn_hash": hashed,
        "urn": str(urn),
        "channel": urn.channel,
        "opted_out": False,
        "created_at": utcnow(),
    }
    contact_id = await _CREATE(db, values)
    if contact_id is not None:  # ours: every field is known, no need to read it back
        contact = ContactRecord(contact_id, hashed, urn.channel, None, False, None, None, None)
        return contact, None, True
    found = await _load(db, hashed)  # another process created it a moment ago
    assert found is not None
    return found[0], found[1], False
