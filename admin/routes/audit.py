"""The audit log, for admins: read-only here, and read-only in the database too."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from admin.deps import MAX_ID, Admin, PageNumber, SessionDep
from admin.schemas import AuditPublic
from bot.models import AuditEntry

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=list[AuditPublic])
async def entries(
    scope: Admin,
    db: SessionDep,
    action: str | None = None,
    case_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    page: PageNumber = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditPublic]:
    """Newest first: sign-ins, case reads and changes, exports, directory changes."""
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if case_id is not None:
        query = query.where(AuditEntry.case_id == case_id)
    rows = await db.scalars(
        query.order_by(AuditEntry.id.desc()).offset((page - 1) * per_page).limit(per_page)
    )
    return [AuditPublic.model_validate(entry) for entry in rows]
