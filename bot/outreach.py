"""Starting a conversation from our side: a staff reply, the satisfaction question.

A person normally starts every conversation. When staff answer a case or resolve
it, the bot opens a flow for the reporter as if they had asked for it: its first
prompt goes to the outbox and the session waits for their answer, so the answer
is read by the same engine, with the same keywords and quick exits, as any other.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.contacts import load_contact, save_contact
from bot.conversation import EXPIRED, save_state
from bot.directory import Directory
from bot.models.base import utcnow
from bot.outbox import to_contact
from bot.runtime import Runtime, TurnPorts
from flows.engine import Engine
from flows.ports import Turn


async def start_flow_for(
    db: AsyncSession,
    runtime: Runtime,
    directory: Directory,
    contact_id: int,
    flow: str,
    values: dict[str, Any],
    *,
    kind: str,
    case_id: int | None = None,
) -> bool:
    """Open ``flow`` for a contact as if they had asked for it: its first prompt goes to
    the outbox and the session waits for their answer. False if they are stopped or
    in the middle of another conversation, which is never interrupted (a staff reply is
    then sent as a plain message, and the code at the start of a message still works)."""
    found = await load_contact(db, contact_id)
    if found is None:
        return False
    contact, row = found
    now = utcnow()
    if contact.opted_out or (row is not None and row.expires_at > now and row.flow != EXPIRED):
        return False
    ports = TurnPorts(runtime, directory, db, contact)
    turn = Turn(contact_id=contact.id, language=contact.language)
    result = await Engine(runtime.flows, ports).handle(turn, None, False, (flow, values))
    await save_state(db, runtime, contact.id, row, result.state, now)
    await to_contact(db, contact, result.replies, kind=kind, case_id=case_id)
    await save_contact(db, contact)
    return True
