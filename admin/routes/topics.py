"""Topics of awareness messages people can follow (admins)."""

from __future__ import annotations

from fastapi import APIRouter

from admin.deps import ScopeDep, SessionDep
from admin.outbound import campaigns as desk
from admin.outbound.schemas import TopicPublic

router = APIRouter(prefix="/topics", tags=["campaigns"])


@router.get("", response_model=list[TopicPublic])
async def topics(scope: ScopeDep, db: SessionDep) -> list[TopicPublic]:
    """The deployment's topics and how many people follow each."""
    return await desk.topics(db, scope)
