"""Awareness campaigns: a series of messages to a topic's subscribers, one part per
weekly slot in each subscriber's local time, each person from where they joined.

The weekly slots are planned by the dispatcher; "send the next part now" plans one
slot at once, for a programme that wants this week's message out today.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory import Directory
from bot.dispatcher import new_dispatch, stop_dispatches
from bot.models import Campaign, CampaignProgress, Dispatch, OutboxMessage, TopicSubscription
from bot.models.base import utcnow

MAX_PART = 1000


class CampaignError(ValueError):
    pass


@dataclass(frozen=True)
class CampaignPlan:
    topic_id: int
    name: str
    parts: list[dict[str, str]]
    fallback_language: str
    weekday: int
    minute_of_day: int


def _check(plan: CampaignPlan, d: Directory) -> None:
    if plan.topic_id not in d.topics:
        raise CampaignError("choose a topic")
    if not plan.name.strip():
        raise CampaignError("name the campaign")
    if not plan.parts:
        raise CampaignError("a campaign has at least one message")
    for number, texts in enumerate(plan.parts, 1):
        if not texts.get(plan.fallback_language, "").strip():
            raise CampaignError(f"message {number} has no text in the fallback language")
        if unknown := set(texts) - set(d.languages):
            raise CampaignError(f"not a language of this deployment: {', '.join(sorted(unknown))}")
        if any(len(text) > MAX_PART for text in texts.values()):
            raise CampaignError(f"a message is at most {MAX_PART} characters")
    if not 0 <= plan.weekday <= 6 or not 0 <= plan.minute_of_day < 24 * 60:
        raise CampaignError("choose a weekday and a time of day")


async def create_campaign(
    db: AsyncSession, plan: CampaignPlan, *, directory: Directory, staff_id: int | None
) -> Campaign:
    _check(plan, directory)
    campaign = Campaign(
        topic_id=plan.topic_id,
        name=plan.name.strip(),
        parts=[{k: v.strip() for k, v in texts.items() if v.strip()} for texts in plan.parts],
        fallback_language=plan.fallback_language,
        weekday=plan.weekday,
        minute_of_day=plan.minute_of_day,
        active=True,
        created_by_id=staff_id,
        created_at=utcnow(),
    )
    db.add(campaign)
    await db.flush()
    return campaign


async def send_next_part_now(db: AsyncSession, campaign: Campaign, *, directory: Directory) -> int:
    """One slot now in every time zone: each subscriber gets the part they are at."""
    if not campaign.active:
        raise CampaignError("this campaign is paused")
    now = utcnow()
    zones = directory.timezones
    for zone in zones:
        db.add(
            Dispatch(
                **new_dispatch(kind="campaign", campaign_id=campaign.id, timezone=zone, due_at=now)
            )
        )
    await db.flush()
    return len(zones)


async def pause_campaign(db: AsyncSession, campaign: Campaign) -> int:
    """Pause: no new slot begins, and the parts still waiting (held for quiet hours, or
    not yet handed to the provider) are not sent. Those people stay at the part they did
    not get, so a resumed campaign sends it to them next. Returns how many were held back."""
    campaign.active = False
    dispatch_ids = select(Dispatch.id).where(Dispatch.campaign_id == campaign.id)
    waiting = select(OutboxMessage.contact_id).where(
        OutboxMessage.dispatch_id.in_(dispatch_ids), OutboxMessage.status == "pending"
    )
    earliest = (
        select(func.min(OutboxMessage.part))
        .where(
            OutboxMessage.dispatch_id.in_(dispatch_ids),
            OutboxMessage.status == "pending",
            OutboxMessage.contact_id == CampaignProgress.contact_id,
        )
        .scalar_subquery()
    )
    await db.execute(
        update(CampaignProgress)
        .where(
            CampaignProgress.campaign_id == campaign.id,
            CampaignProgress.contact_id.in_(waiting),
        )
        .values(next_part=earliest)
        .execution_options(synchronize_session=False)
    )
    return await stop_dispatches(db, dispatch_ids, "campaign paused")


def resume_campaign(campaign: Campaign) -> None:
    """Resume: the dispatcher plans the next weekly slot again from its next tick."""
    campaign.active = True


async def campaign_reach(db: AsyncSession, campaign: Campaign) -> dict[str, int]:
    """Subscribers of the topic, and how many have reached each part."""
    subscribers = await db.scalar(
        select(func.count()).where(TopicSubscription.topic_id == campaign.topic_id)
    )
    finished = await db.scalar(
        select(func.count()).where(
            CampaignProgress.campaign_id == campaign.id,
            CampaignProgress.next_part >= len(campaign.parts),
        )
    )
    started = await db.scalar(
        select(func.count()).where(CampaignProgress.campaign_id == campaign.id)
    )
    return {
        "subscribers": subscribers or 0,
        "started": started or 0,
        "finished": finished or 0,
    }
