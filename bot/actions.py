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
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases import STATUS_MESSAGES, Report, find_own_case, open_case
from bot.contacts import ContactRecord
from bot.directory import Directory
from bot.i18n import Catalogs
from bot.messages import Location
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
    category = ctx.directory.categories_by_id.get(case.category_id)
    return ActionResult(
        outcome="found",
        vars={
            "status": ctx.catalogs.text(language, STATUS_MESSAGES[case.status]),
            "category_label": ctx.directory.localized(category.names, language) if category else "",
            "reported_on": format_date(case.created_at, format="long", locale=language),
        },
    )


ACTIONS: dict[str, Action] = {
    "set_language": set_language,
    "create_case": create_case,
    "lookup_case": lookup_case,
}
