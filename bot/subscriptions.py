"""Who asked for news: forum members and topic subscribers, joined and left by the
people themselves through the bot, or listed in the deployment file.

A member the deployment file lists is marked so; one who joined through the bot is
marked "bot", so re-importing the file never removes someone who chose to join.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ForumMember, TopicSubscription


async def toggle_forum(db: AsyncSession, *, forum_id: int, contact_id: int) -> bool:
    """Join the forum's news, or leave it if already in; True when now a member."""
    found = await db.get(ForumMember, (forum_id, contact_id))
    if found is not None:
        await db.delete(found)
        return False
    db.add(ForumMember(forum_id=forum_id, contact_id=contact_id, source="bot"))
    return True


async def toggle_topic(db: AsyncSession, *, topic_id: int, contact_id: int) -> bool:
    found = await db.get(TopicSubscription, (topic_id, contact_id))
    if found is not None:
        await db.delete(found)
        return False
    db.add(TopicSubscription(topic_id=topic_id, contact_id=contact_id))
    return True


async def subscriptions_of(db: AsyncSession, contact_id: int) -> set[str]:
    """The choice values ("forum:3", "topic:2") the contact is subscribed to."""
    forums = await db.execute(
        select(ForumMember.forum_id).where(ForumMember.contact_id == contact_id)
    )
    topics = await db.execute(
        select(TopicSubscription.topic_id).where(TopicSubscription.contact_id == contact_id)
    )
    return {f"forum:{f}" for f in forums.scalars()} | {f"topic:{t}" for t in topics.scalars()}
