"""Finding a contact by address without ever storing or comparing the address in clear."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import dialect_name
from bot.models import Contact
from bot.privacy import vault
from bot.urns import URN


def urn_hash(urn: URN) -> str:
    return vault().lookup_hash(str(urn))


async def find_contact(db: AsyncSession, urn: URN, lock: bool = False) -> Contact | None:
    query = select(Contact).where(Contact.urn_hash == urn_hash(urn))
    if lock and dialect_name(db) == "postgresql":
        query = query.with_for_update()
    return await db.scalar(query)


async def find_or_create_contact(db: AsyncSession, urn: URN) -> tuple[Contact, bool]:
    """The contact for this address, locked for this transaction; created if new."""
    contact = await find_contact(db, urn, lock=True)
    if contact is not None:
        return contact, False
    contact = Contact(urn_hash=urn_hash(urn), urn=str(urn), channel=urn.channel)
    try:
        async with db.begin_nested():
            db.add(contact)
    except IntegrityError:  # another process created it a moment ago
        found = await find_contact(db, urn, lock=True)
        assert found is not None
        return found, False
    return contact, True
