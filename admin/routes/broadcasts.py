"""Broadcasts: preview, send or schedule, list, follow, cancel (rules in
``admin.outbound.broadcasts``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from admin.deps import ClientDep, PageNumber, RowId, ScopeDep, ServicesDep, SessionDep
from admin.outbound import broadcasts as desk
from admin.outbound.schemas import BroadcastDetail, BroadcastPage, BroadcastPreview, BroadcastWrite

router = APIRouter(prefix="/broadcasts", tags=["broadcasts"])


@router.post("/preview", response_model=BroadcastPreview)
async def preview(
    body: BroadcastWrite, scope: ScopeDep, db: SessionDep, services: ServicesDep
) -> BroadcastPreview:
    """Who it would reach (per language and channel, stopped contacts apart), what one
    message costs in SMS segments per language, and how long the providers' rate limits
    make it take. Nothing is stored. Chairs: their own forums' members only (403)."""
    return await desk.preview(db, services, scope, body)


@router.post("", response_model=BroadcastDetail, status_code=status.HTTP_201_CREATED)
async def send(
    body: BroadcastWrite, scope: ScopeDep, db: SessionDep, services: ServicesDep, client: ClientDep
) -> BroadcastDetail:
    """Send now (without ``send_at``) or at ``send_at``. Each person gets one copy in
    their language (else the fallback's), on their channel; stopped contacts nothing;
    non-urgent messages wait for the end of the recipient's quiet hours."""
    return await desk.send(db, services, scope, body, client)


@router.get("", response_model=BroadcastPage)
async def listing(
    scope: ScopeDep,
    db: SessionDep,
    services: ServicesDep,
    page: PageNumber = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 25,
) -> BroadcastPage:
    """Newest first: all of them for admins, their forums' for chairs and focal points."""
    return await desk.listing(db, services, scope, page=page, per_page=per_page)


@router.get("/{broadcast_id}", response_model=BroadcastDetail)
async def one(
    broadcast_id: RowId, scope: ScopeDep, db: SessionDep, services: ServicesDep
) -> BroadcastDetail:
    """One broadcast and its progress: queued, waiting, sent, delivered, failed, held,
    skipped per reason, and the share done (the staff page polls this)."""
    return await desk.detail(db, services, scope, broadcast_id)


@router.post("/{broadcast_id}/cancel", response_model=BroadcastDetail)
async def cancel(
    broadcast_id: RowId, scope: ScopeDep, db: SessionDep, services: ServicesDep, client: ClientDep
) -> BroadcastDetail:
    """Stop it: nothing more is queued and what waits is skipped ("cancelled"); messages
    a provider already has go on. 409 once it is done or cancelled."""
    return await desk.cancel(db, services, scope, broadcast_id, client)
