"""Writing the audit log: who did what to which case, from where, and when.

One insert per entry, in the caller's transaction, so an action and its entry are
committed together or not at all. The table itself refuses updates and deletes
(database triggers, migration 0006): staff can read it, nobody can edit it.
"""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import AuditEntry, StaffUser
from bot.models.base import table, utcnow

_INSERT = insert(table(AuditEntry))


async def audit(
    db: AsyncSession,
    action: str,
    *,
    staff: StaffUser | None = None,
    actor: str | None = None,
    case_id: int | None = None,
    target: str | None = None,
    detail: str | None = None,
    client: str | None = None,
) -> None:
    await db.execute(
        _INSERT,
        {
            "at": utcnow(),
            "staff_id": staff.id if staff else None,
            "actor": (staff.email if staff else actor),
            "action": action,
            "case_id": case_id,
            "target": target[:254] if target else None,
            "detail": detail[:500] if detail else None,
            "client": client[:64] if client else None,
        },
    )
