"""Awareness campaigns: create, list, follow, send the next part now, pause, resume
(admins; rules in ``admin.outbound.campaigns``)."""

from __future__ import annotations

from fastapi import APIRouter, status

from admin.deps import ClientDep, RowId, ScopeDep, ServicesDep, SessionDep
from admin.outbound import campaigns as desk
from admin.outbound.schemas import CampaignDetail, CampaignSummary, CampaignWrite, SendNow

router = APIRouter(prefix="/campaigns", tags=["campaigns"])


@router.post("", response_model=CampaignDetail, status_code=status.HTTP_201_CREATED)
async def create(
    body: CampaignWrite,
    scope: ScopeDep,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> CampaignDetail:
    """A series of messages to a topic's subscribers, one a week on ``weekday`` at ``time``
    in each person's local time; each person gets the series in order from where they
    joined."""
    return await desk.create(db, services, scope, body, client)


@router.get("", response_model=list[CampaignSummary])
async def listing(scope: ScopeDep, db: SessionDep, services: ServicesDep) -> list[CampaignSummary]:
    """Every campaign, newest first."""
    return await desk.listing(db, services, scope)


@router.get("/{campaign_id}", response_model=CampaignDetail)
async def one(
    campaign_id: RowId, scope: ScopeDep, db: SessionDep, services: ServicesDep
) -> CampaignDetail:
    """A campaign's reach (subscribers, started, finished) and its latest slots' progress."""
    return await desk.detail(db, services, scope, campaign_id)


@router.post("/{campaign_id}/send-now", response_model=SendNow)
async def send_now(
    campaign_id: RowId, scope: ScopeDep, db: SessionDep, services: ServicesDep, client: ClientDep
) -> SendNow:
    """Each subscriber's next part now, in every time zone, instead of at the next slot.
    409 while paused."""
    return await desk.send_now(db, services, scope, campaign_id, client)


@router.post("/{campaign_id}/pause", response_model=CampaignDetail)
async def pause(
    campaign_id: RowId, scope: ScopeDep, db: SessionDep, services: ServicesDep, client: ClientDep
) -> CampaignDetail:
    """No new slot begins (a slot already queued still goes out)."""
    return await desk.set_active(db, services, scope, campaign_id, False, client)


@router.post("/{campaign_id}/resume", response_model=CampaignDetail)
async def resume(
    campaign_id: RowId, scope: ScopeDep, db: SessionDep, services: ServicesDep, client: ClientDep
) -> CampaignDetail:
    """Slots are planned again from the next weekly one."""
    return await desk.set_active(db, services, scope, campaign_id, True, client)
