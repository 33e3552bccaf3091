"""Trends for safety plans: what is reported where, how fast it is handled, how it felt.

Computed from the cases a person may see (forum staff: their forums; admins and
viewers: the programme), plus programme-wide figures for those who see the whole
programme. Protection cases appear only as anonymous counts, and only to roles
allowed to see them. Every figure is counted by the database (GROUP BY, with the
week of a moment in each database's own SQL: ``admin.sql_time``); Python only
names the grouped rows, so no case is loaded to draw the dashboard.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.scope import Scope
from admin.sql_time import hours_between, monday, week_number
from bot.cases import STATUSES
from bot.directory import Directory
from bot.models import Case, Contact, InboundReceipt, OutboxMessage, ProtectionCount
from bot.models.base import utcnow

WEEKS = 12


def week_of(moment: datetime | date) -> str:
    day = moment.date() if isinstance(moment, datetime) else moment
    monday = day - timedelta(days=day.weekday())
    return monday.isoformat()


@dataclass
class Trends:
    weeks: list[str]
    by_category: dict[str, dict[str, int]]  # category -> week -> count
    by_area: dict[str, int]
    by_status: dict[str, int]
    hours_to_acknowledge: float | None
    hours_to_resolve: float | None
    satisfaction: dict[str, Any]
    opt_outs: dict[str, int] = field(default_factory=dict)
    messages: dict[str, dict[str, int]] = field(default_factory=dict)  # channel -> in/out
    protection: dict[str, dict[str, int]] | None = None


async def _median_hours(db: AsyncSession, condition: Any, later: Any, n: int) -> float | None:
    """The median of ``later - created_at`` in hours over the ``n`` cases that have
    ``later``, found by the database: the one or two middle values in order (SQLite
    has no percentile function)."""
    present = and_(condition, later.is_not(None))
    if n == 0:
        return None
    span = hours_between(later, Case.created_at)
    middle = list(
        await db.scalars(
            select(span).where(present).order_by(span).offset((n - 1) // 2).limit(2 - n % 2)
        )
    )
    return round(statistics.fmean(middle), 1)


async def trends(
    db: AsyncSession, scope: Scope, directory: Directory, forum: str | None = None
) -> Trends:
    """The dashboard's figures, each one GROUP BY (or an ordered read of two rows) in
    the database; only the grouped rows come to Python, to be named."""
    now = utcnow()
    since = now - timedelta(weeks=WEEKS)
    weeks = [week_of(since + timedelta(weeks=i + 1)) for i in range(WEEKS)]
    language = scope.staff.language
    condition = and_(Case.kind == "concern", Case.created_at >= since)
    visible = scope.forum_filter()
    if visible is not None:
        condition = and_(condition, Case.forum_id.in_(visible))
    if forum:
        ids = [f.id for f in directory.forums.values() if f.key == forum]
        condition = and_(condition, Case.forum_id.in_(ids))

    def counted(*columns: Any) -> Select[Any]:
        return select(*columns, func.count()).where(condition).group_by(*columns)

    by_category: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(weeks, 0))
    week = week_number(Case.created_at)
    for category_id, number, n in (await db.execute(counted(Case.category_id, week))).all():
        category = directory.categories_by_id.get(category_id)
        name = directory.localized(category.names, language) if category else "?"
        if monday(number).isoformat() in by_category[name]:
            by_category[name][monday(number).isoformat()] += n
    by_area: Counter[str] = Counter()
    for area_id, n in (await db.execute(counted(Case.area_id))).all():
        area = directory.area_label(area_id, language) if area_id in directory.areas else "—"
        by_area[area] += n
    # Statuses, scores and how many were acknowledged and resolved: one pass, summed.
    tallies = {
        **{f"status:{s}": Case.status == s for s in STATUSES},
        **{f"score:{k}": Case.satisfaction == k for k in range(1, 6)},
        "acknowledged": Case.acknowledged_at.is_not(None),
        "resolved": Case.resolved_at.is_not(None),
    }
    summed = (
        await db.execute(
            select(
                *(func.coalesce(func.sum(case((t, 1), else_=0)), 0) for t in tallies.values())
            ).where(condition)
        )
    ).one()
    tally = dict(zip(tallies, (int(n) for n in summed), strict=True))
    by_status = {s: tally[f"status:{s}"] for s in STATUSES if tally[f"status:{s}"]}
    scores = {k: tally[f"score:{k}"] for k in range(1, 6)}
    answers = sum(scores.values())
    result = Trends(
        weeks=weeks,
        by_category=dict(by_category),
        by_area=dict(by_area.most_common(15)),
        by_status=by_status,
        hours_to_acknowledge=await _median_hours(
            db, condition, Case.acknowledged_at, tally["acknowledged"]
        ),
        hours_to_resolve=await _median_hours(db, condition, Case.resolved_at, tally["resolved"]),
        satisfaction={
            "answers": answers,
            "average": (
                round(sum(k * n for k, n in scores.items()) / answers, 2) if answers else None
            ),
            "distribution": {str(k): scores[k] for k in range(1, 6)},
        },
    )
    if visible is None:  # programme-wide figures: admins and viewers
        result.opt_outs = await _opt_outs(db, since, weeks)
        result.messages = await _volumes(db, since)
    if scope.sees_protection_counts:
        result.protection = await _protection_counts(db, directory, since, language)
    return result


async def _opt_outs(db: AsyncSession, since: datetime, weeks: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(weeks, 0)
    week = week_number(Contact.opted_out_at)
    rows = await db.execute(
        select(week, func.count()).where(Contact.opted_out_at >= since).group_by(week)
    )
    for number, n in rows.all():
        if monday(number).isoformat() in counts:
            counts[monday(number).isoformat()] += n
    return counts


async def _volumes(db: AsyncSession, since: datetime) -> dict[str, dict[str, int]]:
    volumes: dict[str, dict[str, int]] = defaultdict(lambda: {"in": 0, "out": 0, "failed": 0})
    for channel, n in (
        await db.execute(
            select(InboundReceipt.channel, func.count())
            .where(InboundReceipt.received_at >= since)
            .group_by(InboundReceipt.channel)
        )
    ).all():
        volumes[channel]["in"] = n
    for channel, status, n in (
        await db.execute(
            select(OutboxMessage.channel, OutboxMessage.status, func.count())
            .where(OutboxMessage.created_at >= since, OutboxMessage.kind != "erase")
            .group_by(OutboxMessage.channel, OutboxMessage.status)
        )
    ).all():
        if status == "sent":
            volumes[channel]["out"] += n
        elif status == "failed":
            volumes[channel]["failed"] += n
    return dict(volumes)


async def _protection_counts(
    db: AsyncSession, directory: Directory, since: datetime, language: str
) -> dict[str, dict[str, int]]:
    """Anonymous counts only: by outcome, by help asked for, by area. Nothing per case."""
    columns = (ProtectionCount.outcome, ProtectionCount.help_type, ProtectionCount.area_id)
    rows = await db.execute(
        select(*columns, func.count()).where(ProtectionCount.day >= since.date()).group_by(*columns)
    )
    counts: dict[str, Counter[str]] = {"outcome": Counter(), "help": Counter(), "area": Counter()}
    for outcome, help_type, area_id, n in rows.all():
        counts["outcome"][outcome] += n
        counts["help"][help_type or "not said"] += n
        area = directory.area_label(area_id, language) if area_id in directory.areas else "—"
        counts["area"][area] += n
    return {name: dict(counter) for name, counter in counts.items()}


def aggregate_rows(result: Trends) -> list[tuple[str, str, str, Any]]:
    """The trends flattened for CSV: (metric, period, key, value)."""
    rows: list[tuple[str, str, str, Any]] = []
    for category, weeks in result.by_category.items():
        rows += [("concerns_by_category", week, category, n) for week, n in weeks.items()]
    rows += [("concerns_by_area", "12 weeks", area, n) for area, n in result.by_area.items()]
    rows += [("concerns_by_status", "12 weeks", s, n) for s, n in result.by_status.items()]
    rows.append(("median_hours_to_acknowledge", "12 weeks", "", result.hours_to_acknowledge))
    rows.append(("median_hours_to_resolve", "12 weeks", "", result.hours_to_resolve))
    for score, n in result.satisfaction["distribution"].items():
        rows.append(("satisfaction", "12 weeks", score, n))
    rows += [("opt_outs", week, "", n) for week, n in result.opt_outs.items()]
    for channel, counts in result.messages.items():
        rows += [(f"messages_{way}", "12 weeks", channel, n) for way, n in counts.items()]
    for name, counter in (result.protection or {}).items():
        rows += [(f"protection_{name}", "12 weeks", key, n) for key, n in counter.items()]
    return rows
