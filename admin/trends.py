"""Trends for safety plans: what is reported where, how fast it is handled, how it felt.

Computed from the cases a person may see (forum staff: their forums; admins and
viewers: the programme), plus programme-wide figures for those who see the whole
programme. Protection cases appear only as anonymous counts, and only to roles
allowed to see them. Weeks are bucketed in Python so SQLite and PostgreSQL agree.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.scope import Scope
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


def _median_hours(spans: list[timedelta]) -> float | None:
    if not spans:
        return None
    return round(statistics.median(s.total_seconds() for s in spans) / 3600, 1)


async def trends(
    db: AsyncSession, scope: Scope, directory: Directory, forum: str | None = None
) -> Trends:
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
    rows = (
        await db.execute(
            select(
                Case.created_at, Case.category_id, Case.area_id, Case.status,
                Case.acknowledged_at, Case.resolved_at, Case.satisfaction,
            ).where(condition)
        )
    ).all()  # fmt: skip
    by_category: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(weeks, 0))
    by_area: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    to_ack, to_resolve, scores = [], [], []
    for created, category_id, area_id, status, acked, resolved, score in rows:
        category = directory.categories_by_id.get(category_id)
        name = directory.localized(category.names, language) if category else "?"
        week = week_of(created)
        if week in by_category[name]:
            by_category[name][week] += 1
        area = directory.area_label(area_id, language) if area_id in directory.areas else "—"
        by_area[area] += 1
        by_status[status] += 1
        if acked:
            to_ack.append(acked - created)
        if resolved:
            to_resolve.append(resolved - created)
        if score:
            scores.append(score)
    result = Trends(
        weeks=weeks,
        by_category=dict(by_category),
        by_area=dict(by_area.most_common(15)),
        by_status=dict(by_status),
        hours_to_acknowledge=_median_hours(to_ack),
        hours_to_resolve=_median_hours(to_resolve),
        satisfaction={
            "answers": len(scores),
            "average": round(statistics.fmean(scores), 2) if scores else None,
            "distribution": {str(n): scores.count(n) for n in range(1, 6)},
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
    for (moment,) in (
        await db.execute(select(Contact.opted_out_at).where(Contact.opted_out_at >= since))
    ).all():
        if moment is not None and week_of(moment) in counts:
            counts[week_of(moment)] += 1
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
    rows = (
        await db.execute(
            select(
                ProtectionCount.outcome, ProtectionCount.help_type, ProtectionCount.area_id
            ).where(ProtectionCount.day >= since.date())
        )
    ).all()
    counts: dict[str, Counter[str]] = {"outcome": Counter(), "help": Counter(), "area": Counter()}
    for outcome, help_type, area_id in rows:
        counts["outcome"][outcome] += 1
        counts["help"][help_type or "not said"] += 1
        area = directory.area_label(area_id, language) if area_id in directory.areas else "—"
        counts["area"][area] += 1
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
