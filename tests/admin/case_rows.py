"""Cases written straight into the database, many at once, with the moments a test or a
benchmark chooses (created, acknowledged, resolved, rated): the dashboard's input
without a conversation per case."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Area, Case, Category, Forum
from bot.models.base import table

STATUSES = ("new", "acknowledged", "in_progress", "referred", "resolved", "closed")


def case_row(number: int, created: datetime, **values: Any) -> dict[str, Any]:
    """One concern's columns; ``values`` set the rest (category_id, forum_id...)."""
    return {
        "reference": f"T{number:09d}",
        "kind": "concern",
        "queue": "forum",
        "route_reason": "area",
        "status": "new",
        "anonymous": True,
        "description": "synthetic",
        "language": "en",
        "channel": "sms",
        "created_at": created,
        "updated_at": created,
        # Every row names the same columns, so that many go in one statement.
        "acknowledged_at": None,
        "resolved_at": None,
        "satisfaction": None,
        **values,
    }


async def add_cases(db: AsyncSession, rows: list[dict[str, Any]], batch: int = 5_000) -> None:
    for start in range(0, len(rows), batch):
        await db.execute(insert(table(Case)), rows[start : start + batch])


async def random_cases(
    db: AsyncSession, count: int, now: datetime, *, weeks: int = 16, seed: int = 7
) -> None:
    """``count`` concerns over the last ``weeks`` across the directory's forums, areas and
    categories; most acknowledged, many resolved, some rated."""
    rng = random.Random(seed)
    categories = list(await db.scalars(select(Category.id).where(Category.routes_to == "forum")))
    forums = list(await db.scalars(select(Forum.id)))
    areas = list(await db.scalars(select(Area.id)))
    rows = []
    for n in range(count):
        created = now - timedelta(seconds=rng.randrange(weeks * 7 * 86400))
        acked = created + timedelta(hours=rng.uniform(0.1, 72)) if rng.random() < 0.8 else None
        resolved = (
            acked + timedelta(hours=rng.uniform(1, 300)) if acked and rng.random() < 0.5 else None
        )
        rows.append(case_row(
            n, created, category_id=rng.choice(categories), forum_id=rng.choice(forums),
            area_id=rng.choice(areas), status=rng.choice(STATUSES), acknowledged_at=acked,
            resolved_at=resolved, satisfaction=rng.randint(1, 5) if resolved else None,
        ))  # fmt: skip
    await add_cases(db, rows)
