"""The protection flow's actions: survivor-centred GBV reporting and referral.

What the GBV case-management standards ask, applied to a chat: nothing is referred
without informed consent, nothing is kept that is not needed, and only the
protection unit reads what was said. A person who does not consent leaves no
case, only an anonymous count (day, area, help asked for); a person who does gets
a case whose notification says only that it exists, with its code and area.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update

from bot.cases import notify_withdrawal, open_protection_case
from bot.i18n import msg
from bot.models import Case, CaseMessage, ProtectionCount
from bot.models.base import table, utcnow
from bot.routing import route_case
from flows.ports import ActionResult

if TYPE_CHECKING:
    from bot.actions import ActionContext

HELP_TYPES = ("health", "psychosocial", "legal", "safety", "police")
_COUNT = insert(table(ProtectionCount))


def _area_id(ctx: ActionContext) -> int | None:
    area = ctx.directory.areas_by_key.get(ctx.vars.get("area") or "")
    return area.id if area else ctx.contact.area_id


async def _count(ctx: ActionContext, outcome: str) -> None:
    """The anonymous trace of a conversation: no contact, no words, the day only."""
    await ctx.db.execute(
        _COUNT,
        {
            "day": utcnow().date(),
            "area_id": _area_id(ctx),
            "help_type": ctx.vars.get("help"),
            "outcome": outcome,
        },
    )


def _forget_answers(ctx: ActionContext) -> None:
    """Once used, the answers leave the session: it must not outlive the case."""
    for name in ("description", "description_short", "contact_time", "contact_time_short"):
        ctx.vars.pop(name, None)


async def come_back_later(ctx: ActionContext) -> ActionResult:
    """Not safe to talk: how to come back. The flow ends here, and its session with it."""
    word = (
        ctx.directory.entry_word(ctx.language)
        or ctx.catalogs.words(ctx.language, msg("keyword.menu"))[0]
    )
    return ActionResult(vars={"entry_word": word.upper()})


def _units_near(ctx: ActionContext) -> list[int]:
    """Units covering the person's area (or its parents); all units when it is unknown."""
    directory = ctx.directory
    area_id = _area_id(ctx)
    for ancestor in directory.ancestors(area_id) if area_id is not None else []:
        if ancestor in directory.unit_coverage:
            return list(directory.unit_coverage[ancestor])
    return list(directory.units)


def _hotlines(ctx: ActionContext) -> str:
    """Emergency numbers for the person's area; unknown area: every country's, by country,
    so a person in Niger is not told to call Kenya's police."""
    directory = ctx.directory
    by_country: dict[str, list[str]] = defaultdict(list)
    known_area = _area_id(ctx) is not None
    for unit_id in _units_near(ctx):
        unit = directory.units[unit_id]
        country = "" if known_area else _country_of(ctx, unit_id)
        for name, number in unit.hotlines:
            line = f"{name}: {number}"
            if line not in by_country[country]:
                by_country[country].append(line)
    blocks = []
    for country, lines in by_country.items():
        blocks.append((f"{country}\n" if country else "") + "\n".join(lines))
    return "\n\n".join(blocks)


def _country_of(ctx: ActionContext, unit_id: int) -> str:
    directory = ctx.directory
    covered = [area for area, units in directory.unit_coverage.items() if unit_id in units]
    if not covered:
        return ""
    root = directory.ancestors(covered[0])[-1]
    return directory.localized(directory.areas[root].names, ctx.language)


async def emergency_numbers(ctx: ActionContext) -> ActionResult:
    numbers = _hotlines(ctx)
    return ActionResult(outcome="found" if numbers else "none", vars={"numbers": numbers})


async def find_protection_unit(ctx: ActionContext) -> ActionResult:
    """The unit that would receive the case: routed as forums are, with units instead."""
    category = next((c for c in ctx.directory.categories if c.routes_to == "protection_unit"), None)
    area = ctx.directory.areas_by_key.get(ctx.vars.get("area") or "")
    if category is None or area is None:
        return ActionResult(outcome="none")
    route = route_case(ctx.directory, category, area.id)
    if route.unit_id is None:
        return ActionResult(outcome="none")
    unit = ctx.directory.units[route.unit_id]
    return ActionResult(
        vars={
            "unit": str(route.unit_id),
            "unit_name": ctx.directory.localized(unit.names, ctx.language),
            "category": category.key,
        }
    )


async def needs_service_consent(ctx: ActionContext) -> ActionResult:
    """A second consent is asked only when there is a service to refer to."""
    help_type = ctx.vars.get("help")
    return ActionResult(outcome="ask" if help_type and help_type != "police" else "skip")


async def create_protection_case(ctx: ActionContext) -> ActionResult:
    unit_id = int(ctx.vars["unit"]) if str(ctx.vars.get("unit") or "").isdigit() else None
    if ctx.vars.get("consent_unit") != "yes" or unit_id not in ctx.directory.units:
        return await protection_directory(ctx)  # never referred without consent
    area = ctx.directory.areas_by_key.get(ctx.vars.get("area") or "")
    contact_method = ctx.vars.get("contact")
    opened = await open_protection_case(
        ctx.db,
        ctx.directory,
        ctx.catalogs,
        ctx.contact,
        category_key=ctx.vars["category"],
        unit_id=unit_id,
        area_id=area.id if area else None,
        help_type=ctx.vars.get("help"),
        consent_service=ctx.vars.get("consent_service") == "yes",
        description=ctx.vars.get("description") or "",
        contact_method=contact_method if contact_method in ("this_chat", "call") else None,
        contact_time=ctx.vars.get("contact_time"),
        language=ctx.language,
    )
    await _count(ctx, "referred")
    _forget_answers(ctx)
    return ActionResult(outcome="referred", vars={"reference": opened.reference})


async def protection_directory(ctx: ActionContext) -> ActionResult:
    """No referral: where to get help on their own, and an anonymous count only."""
    lines = []
    for unit_id in _units_near(ctx):
        for name, _kind, contact in ctx.directory.units[unit_id].places:
            lines.append(f"{name}{f' ({contact})' if contact else ''}")
    numbers = _hotlines(ctx)
    await _count(ctx, "no_unit" if not ctx.vars.get("unit") else "no_consent")
    _forget_answers(ctx)
    directory = "\n".join(dict.fromkeys(lines))
    return ActionResult(
        outcome="directory",
        vars={"directory": "\n\n".join(part for part in (numbers, directory) if part)},
    )


async def withdraw_consent(ctx: ActionContext) -> ActionResult:
    """Stop further sharing of one's own protection case, recorded on its timeline, and
    tell the unit (content-free) so that nobody passes it on."""
    case = await ctx.db.scalar(
        select(Case).where(
            Case.reference == ctx.vars.get("reference", ""),
            Case.contact_id == ctx.contact.id,
            Case.kind == "protection",
        )
    )
    if case is None:
        return ActionResult(outcome="not_found")
    if case.consent_withdrawn_at is None:
        now = utcnow()
        await ctx.db.execute(
            update(Case)
            .where(Case.id == case.id)
            .values(consent_withdrawn_at=now, consent_service=False, updated_at=now)
        )
        await ctx.db.execute(
            insert(CaseMessage).values(
                case_id=case.id, direction="event", body="consent withdrawn", created_at=now
            )
        )
        await notify_withdrawal(ctx.db, ctx.directory, ctx.catalogs, case)
    return ActionResult(outcome="withdrawn")
