"""Awareness campaigns for programme admins: topics, campaigns, their reach, send-now,
pause and resume.

Campaigns speak for the programme, not for a forum, so only admins run them; every
other role is refused (403). Pausing stops the weekly slots not yet begun (what a
slot already queued still goes out, so nobody's series skips a part); resuming plans
them again from the next one.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.audit import audit
from admin.outbound.common import conflict, forbidden, not_found, progress, unprocessable
from admin.outbound.schemas import (
    CampaignDetail,
    CampaignSlot,
    CampaignSummary,
    CampaignWrite,
    Reach,
    SendNow,
    TopicPublic,
)
from admin.scope import Scope
from bot.campaigns import (
    CampaignError,
    CampaignPlan,
    campaign_reach,
    create_campaign,
    pause_campaign,
    resume_campaign,
    send_next_part_now,
)
from bot.directory import Directory
from bot.models import Campaign, Dispatch, Topic, TopicSubscription
from bot.services import Services

SLOTS_SHOWN = 30


def _admin(scope: Scope) -> None:
    if not scope.is_admin:
        raise forbidden("only programme admins run awareness campaigns")


async def topics(db: AsyncSession, scope: Scope) -> list[TopicPublic]:
    """Every topic people can follow, with how many follow it."""
    _admin(scope)
    rows = await db.execute(
        select(Topic, func.count(TopicSubscription.contact_id))
        .outerjoin(TopicSubscription, TopicSubscription.topic_id == Topic.id)
        .group_by(Topic.id)
        .order_by(Topic.key)
    )
    return [
        TopicPublic(id=t.id, key=t.key, names=t.names, active=t.active, subscribers=n)
        for t, n in rows.all()
    ]


async def create(
    db: AsyncSession, services: Services, scope: Scope, body: CampaignWrite, client: str | None
) -> CampaignDetail:
    _admin(scope)
    d = await services.runtime.directories.get(db)
    topic_id = await db.scalar(select(Topic.id).where(Topic.key == body.topic, Topic.active))
    if topic_id is None:
        raise unprocessable(f"no topic with the key {body.topic!r}")
    hours, minutes = (int(part) for part in body.time.split(":"))
    plan = CampaignPlan(
        topic_id=topic_id,
        name=body.name,
        parts=[dict(part) for part in body.parts],
        fallback_language=body.fallback_language,
        weekday=body.weekday,
        minute_of_day=hours * 60 + minutes,
    )
    try:
        campaign = await create_campaign(db, plan, directory=d, staff_id=scope.staff.id)
    except CampaignError as exc:
        raise unprocessable(str(exc)) from None
    await audit(
        db,
        "campaign_create",
        staff=scope.staff,
        target=f"campaign:{campaign.id}",
        detail=f"{body.name} ({len(body.parts)} messages, {body.topic})",
        client=client,
    )
    await db.commit()
    services.wake_dispatcher()  # the tick plans its weekly slots
    return await detail(db, services, scope, campaign.id)


async def listing(db: AsyncSession, services: Services, scope: Scope) -> list[CampaignSummary]:
    _admin(scope)
    d = await services.runtime.directories.get(db)
    names = await _topic_names(db)
    campaigns = await db.scalars(
        select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    )
    return [_summary(c, names, d, scope.staff.language) for c in campaigns]


async def find(db: AsyncSession, scope: Scope, campaign_id: int) -> Campaign:
    _admin(scope)
    found = await db.get(Campaign, campaign_id)
    if found is None:
        raise not_found("campaign")
    return found


async def detail(
    db: AsyncSession, services: Services, scope: Scope, campaign_id: int
) -> CampaignDetail:
    """A campaign, how far its subscribers are, and its latest slots with their progress."""
    campaign = await find(db, scope, campaign_id)
    d = await services.runtime.directories.get(db)
    dispatches = await db.scalars(
        select(Dispatch)
        .where(Dispatch.campaign_id == campaign.id)
        .order_by(Dispatch.due_at.desc(), Dispatch.id.desc())
        .limit(SLOTS_SHOWN)
    )
    slots = [
        CampaignSlot(
            id=s.id,
            timezone=s.timezone,
            due_at=s.due_at,
            progress=await progress(db, [s.id], s.status),
        )
        for s in dispatches
    ]
    summary = _summary(campaign, await _topic_names(db), d, scope.staff.language)
    return CampaignDetail(
        **summary.model_dump(),
        messages=list(campaign.parts),
        fallback_language=campaign.fallback_language,
        reach=Reach(**await campaign_reach(db, campaign)),
        slots=slots,
    )


async def send_now(
    db: AsyncSession, services: Services, scope: Scope, campaign_id: int, client: str | None
) -> SendNow:
    """Each subscriber's next part, now, rather than at the next weekly slot."""
    campaign = await find(db, scope, campaign_id)
    d = await services.runtime.directories.get(db)
    try:
        zones = await send_next_part_now(db, campaign, directory=d)
    except CampaignError as exc:
        raise conflict(str(exc)) from None
    await audit(
        db, "campaign_send_now", staff=scope.staff, target=f"campaign:{campaign.id}", client=client
    )
    await db.commit()
    services.wake_dispatcher()
    return SendNow(slots=zones)


async def set_active(
    db: AsyncSession,
    services: Services,
    scope: Scope,
    campaign_id: int,
    active: bool,
    client: str | None,
) -> CampaignDetail:
    """Pause (no new slot begins, what waits is held back) or resume (slots are planned
    again from the next)."""
    campaign = await find(db, scope, campaign_id)
    if campaign.active == active:
        raise conflict(f"this campaign is already {'running' if active else 'paused'}")
    if active:
        resume_campaign(campaign)
    else:
        await pause_campaign(db, campaign)
    action = "campaign_resume" if active else "campaign_pause"
    await audit(db, action, staff=scope.staff, target=f"campaign:{campaign.id}", client=client)
    await db.commit()
    services.wake_dispatcher()
    return await detail(db, services, scope, campaign.id)


async def _topic_names(db: AsyncSession) -> dict[int, tuple[str, dict[str, str]]]:
    rows = await db.execute(select(Topic.id, Topic.key, Topic.names))
    return {topic_id: (key, names) for topic_id, key, names in rows.all()}


def _summary(
    c: Campaign,
    topics: dict[int, tuple[str, dict[str, str]]],
    d: Directory,
    language: str,
) -> CampaignSummary:
    key, names = topics.get(c.topic_id, ("", {}))
    hours, minutes = divmod(c.minute_of_day, 60)
    return CampaignSummary(
        id=c.id,
        name=c.name,
        topic=key,
        topic_name=d.localized(names, language) if names else key,
        parts=len(c.parts),
        weekday=c.weekday,
        time=f"{hours:02d}:{minutes:02d}",
        active=c.active,
        created_at=c.created_at,
    )
