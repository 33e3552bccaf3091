"""The flow actions of news: joining and leaving it, and answering meeting reminders.

Kept out of ``bot.actions`` (the report and chair actions) so each module has one
subject; both register in the same ``ACTIONS`` table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.meetings import record_answer
from bot.models import Meeting
from bot.models.base import utcnow
from bot.subscriptions import toggle_forum, toggle_topic
from flows.ports import ActionResult

if TYPE_CHECKING:
    from bot.actions import ActionContext


async def toggle_subscription(ctx: ActionContext) -> ActionResult:
    kind, _, raw_id = str(ctx.vars.get("item") or "").partition(":")
    item_id = int(raw_id) if raw_id.isdigit() else None
    d = ctx.directory
    if kind == "forum" and item_id in d.forums:
        joined = await toggle_forum(ctx.db, forum_id=item_id, contact_id=ctx.contact.id)
        name = d.localized(d.forums[item_id].names, ctx.language)
    elif kind == "topic" and item_id is not None and item_id in d.topics:
        joined = await toggle_topic(ctx.db, topic_id=item_id, contact_id=ctx.contact.id)
        name = d.localized(d.topics[item_id], ctx.language)
    else:
        return ActionResult(outcome="unknown")
    return ActionResult(outcome="joined" if joined else "left", vars={"name": name})


async def record_rsvp(ctx: ActionContext) -> ActionResult:
    raw = str(ctx.vars.get("meeting") or "")
    meeting = await ctx.db.get(Meeting, int(raw)) if raw.isdigit() else None
    if meeting is None or meeting.status != "scheduled" or meeting.starts_at <= utcnow():
        return ActionResult(outcome="gone")
    attending = ctx.vars.get("attending") == "yes"
    await record_answer(
        ctx.db, meeting_id=meeting.id, contact_id=ctx.contact.id, attending=attending
    )
    return ActionResult(outcome="coming" if attending else "not_coming")
