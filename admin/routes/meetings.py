"""Forum meetings: schedule, list, read with the answers, move, cancel (rules in
``admin.outbound.meetings``)."""

from __future__ import annotations

from fastapi import APIRouter, status

from admin.deps import ClientDep, RowId, ScopeDep, ServicesDep, SessionDep
from admin.outbound import meetings as desk
from admin.outbound.schemas import MeetingDetail, MeetingList, MeetingMove, MeetingWrite

router = APIRouter(prefix="/meetings", tags=["meetings"])


@router.post("", response_model=MeetingDetail, status_code=status.HTTP_201_CREATED)
async def schedule(
    body: MeetingWrite, scope: ScopeDep, db: SessionDep, services: ServicesDep, client: ClientDep
) -> MeetingDetail:
    """Schedule a forum's meeting. Its members are reminded at each offset (default 24
    hours and 2 hours before), in their language and time zone, and can answer yes or no."""
    return await desk.schedule(db, services, scope, body, client)


@router.get("", response_model=MeetingList)
async def listing(scope: ScopeDep, db: SessionDep, services: ServicesDep) -> MeetingList:
    """Upcoming and past meetings of the forums this person serves (all for admins)."""
    return await desk.listing(db, services, scope)


@router.get("/{meeting_id}", response_model=MeetingDetail)
async def one(
    meeting_id: RowId, scope: ScopeDep, db: SessionDep, services: ServicesDep
) -> MeetingDetail:
    """One meeting: its yes and no counts, and each reminder or notice with its progress."""
    return await desk.detail(db, services, scope, meeting_id)


@router.post("/{meeting_id}/reschedule", response_model=MeetingDetail)
async def reschedule(
    meeting_id: RowId,
    body: MeetingMove,
    scope: ScopeDep,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> MeetingDetail:
    """Move it (and its place, if given): members already reminded are told at once, and
    everyone gets the reminders again for the new time."""
    return await desk.reschedule(db, services, scope, meeting_id, body, client)


@router.post("/{meeting_id}/cancel", response_model=MeetingDetail)
async def cancel(
    meeting_id: RowId, scope: ScopeDep, db: SessionDep, services: ServicesDep, client: ClientDep
) -> MeetingDetail:
    """Cancel it: no more reminders; members already reminded are told."""
    return await desk.cancel(db, services, scope, meeting_id, client)
