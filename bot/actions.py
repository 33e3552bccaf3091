"""The named actions flows can run, with the database at hand.

Flows say ``action: create_case``; this module is the only place that knows what
that means. Each action gets the turn's context and returns an outcome (which
the flow maps to its next step) and values for the messages that follow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import news_actions, protection, relay
from bot.broadcasts import BroadcastDraft, create_broadcast
from bot.cases import STATUS_MESSAGES, Report, find_own_case, open_case
from bot.contacts import ContactRecord
from bot.directory import Directory
from bot.i18n import Catalogs, msg
from bot.messages import Location
from bot.models import Contact, ForumMember
from flows.ports import ActionResult, Turn


@dataclass
class ActionContext:
    db: AsyncSession
    directory: Directory
    catalogs: Catalogs
    contact: ContactRecord
    turn: Turn
    vars: dict[str, Any]

    @property
    def language(self) -> str:
        return self.turn.language or self.directory.default_language


Action = Callable[[ActionContext], Awaitable[ActionResult]]


async def set_language(ctx: ActionContext) -> ActionResult:
    language = ctx.vars.get("language")
    if language not in ctx.directory.languages:
        language = ctx.directory.default_language
    ctx.contact.language = language
    # Chosen from the menu, unless the engine passes what it guessed from a message.
    ctx.contact.language_detected = bool(ctx.vars.get("detected"))
    return ActionResult(language=language)


async def create_case(ctx: ActionContext) -> ActionResult:
    location = ctx.vars.get("location")
    report = Report(
        category_key=ctx.vars["category"],
        area_key=ctx.vars.get("area"),
        location=Location(*location) if location else None,
        description=ctx.vars["description"],
        reporter_name=ctx.vars.get("name") if ctx.vars.get("anonymity") == "named" else None,
        language=ctx.language,
    )
    if report.category_key not in ctx.directory.categories_by_key:
        return ActionResult(outcome="unavailable")
    case = await open_case(ctx.db, ctx.directory, ctx.catalogs, ctx.contact, report)
    for sensitive in ("description", "description_short", "name", "name_short"):
        ctx.vars.pop(sensitive, None)
    return ActionResult(vars={"reference": case.reference})


async def lookup_case(ctx: ActionContext) -> ActionResult:
    case = await find_own_case(ctx.db, ctx.contact, ctx.vars.get("reference", ""))
    if case is None:
        return ActionResult(outcome="not_found")
    language = ctx.language
    if case.kind == "protection":  # no category word on a screen someone may see
        return ActionResult(
            outcome="protection",
            vars={"status": ctx.catalogs.text(language, STATUS_MESSAGES[case.status])},
        )
    category = ctx.directory.categories_by_id.get(case.category_id)
    return ActionResult(
        outcome="found",
        vars={
            "status": ctx.catalogs.text(language, STATUS_MESSAGES[case.status]),
            "category_label": ctx.directory.localized(category.names, language) if category else "",
            "reported_on": format_date(case.created_at, format="long", locale=language),
        },
    )


MIN_ANNOUNCEMENT, MAX_ANNOUNCEMENT = 3, 1000  # as the announce flow's text step asks


def _chaired(ctx: ActionContext) -> tuple[int, ...]:
    """The forums this contact chairs (checked again here: flows are data, this is the gate)."""
    return ctx.directory.chairs.get(ctx.contact.urn_hash, ())


def _members(forum_id: int) -> Select[int, str, str, str | None, bool]:
    return (
        select(Contact.id, Contact.channel, Contact.urn_hash, Contact.language, Contact.opted_out)
        .join(ForumMember, ForumMember.contact_id == Contact.id)
        .where(ForumMember.forum_id == forum_id)
        .order_by(Contact.id)
    )


async def prepare_announcement(ctx: ActionContext) -> ActionResult:
    forums = _chaired(ctx)
    if not forums:
        return ActionResult(outcome="not_chair")
    chosen = ctx.vars.get("forum")
    forum_id = int(chosen) if chosen and chosen.isdigit() and int(chosen) in forums else None
    if forum_id is None and len(forums) > 1:
        return ActionResult(outcome="pick_forum")
    forum_id = forum_id or forums[0]
    values = {
        "forum": str(forum_id),
        "forum_name": ctx.directory.localized(ctx.directory.forums[forum_id].names, ctx.language),
    }
    text = ctx.vars.get("announcement") or ""
    if not MIN_ANNOUNCEMENT <= len(text.strip()) <= MAX_ANNOUNCEMENT:  # e.g. "/announce x"
        return ActionResult(outcome="ask_text", vars={**values, "announcement": None})
    members = (await ctx.db.execute(_members(forum_id))).all()
    reachable = sum(1 for m in members if not m.opted_out)
    return ActionResult(outcome="confirm", vars={**values, "members": reachable})


async def send_announcement(ctx: ActionContext) -> ActionResult:
    """The chair's announcement becomes a broadcast to the forum's members, sent by the
    dispatcher like any other: in each member's language where the chair wrote it, else
    in the chair's, with quiet hours and the stopped respected."""
    chosen = ctx.vars.get("forum")
    forum_id = int(chosen) if chosen and chosen.isdigit() else None
    text = ctx.vars.get("announcement")
    if forum_id is None or forum_id not in _chaired(ctx) or not text:
        return ActionResult(outcome="not_chair")
    draft = BroadcastDraft(
        audience="forum",
        forum_id=forum_id,
        texts={ctx.language: text},
        fallback_language=ctx.language,
    )
    await create_broadcast(ctx.db, draft, directory=ctx.directory, staff_id=None)
    members = (await ctx.db.execute(_members(forum_id))).all()
    ctx.vars.pop("announcement", None)
    ctx.vars.pop("announcement_short", None)
    return ActionResult(outcome="sent", vars={"queued": sum(1 for m in members if not m.opted_out)})


async def count_members(ctx: ActionContext) -> ActionResult:
    forums = _chaired(ctx)
    if not forums:
        return ActionResult(outcome="not_chair")
    lines = []
    for forum_id in forums:
        members = (await ctx.db.execute(_members(forum_id))).all()
        stopped = sum(1 for m in members if m.opted_out)
        lines.append(
            ctx.catalogs.text(
                ctx.language,
                msg("members.line"),
                forum=ctx.directory.localized(ctx.directory.forums[forum_id].names, ctx.language),
                total=len(members),
                reachable=len(members) - stopped,
                stopped=stopped,
            )
        )
    return ActionResult(outcome="counted", vars={"counts": "\n".join(lines)})


ACTIONS: dict[str, Action] = {
    "set_language": set_language,
    "create_case": create_case,
    "lookup_case": lookup_case,
    "prepare_announcement": prepare_announcement,
    "send_announcement": send_announcement,
    "count_members": count_members,
    "come_back_later": protection.come_back_later,
    "emergency_numbers": protection.emergency_numbers,
    "find_protection_unit": protection.find_protection_unit,
    "needs_service_consent": protection.needs_service_consent,
    "create_protection_case": protection.create_protection_case,
    "protection_directory": protection.protection_directory,
    "withdraw_consent": protection.withdraw_consent,
    "append_case_reply": relay.append_case_reply,
    "save_satisfaction": relay.save_satisfaction,
    "toggle_subscription": news_actions.toggle_subscription,
    "record_rsvp": news_actions.record_rsvp,
}
