"""The dashboard's figures, counted by the database, are the ones a person would count:
weeks split on Monday 00:00 UTC, medians of odd and even counts, satisfaction, and
another forum's cases left out; on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from admin.trends import week_of
from bot.models import Area, Category, Forum
from bot.models.base import utcnow
from bot.services import Services
from tests.admin.case_rows import add_cases, case_row
from tests.admin.conftest import Staff


async def test_the_figures_are_what_a_person_would_count(
    staff: dict[str, Staff], services: Services
) -> None:
    now = utcnow()
    monday = datetime.combine(now.date() - timedelta(days=now.weekday()), time(), UTC)
    if now - monday < timedelta(minutes=5):  # just after midnight on a Monday: last week's
        monday -= timedelta(weeks=1)
    async with services.sessions() as db, db.begin():
        ids = {
            key: await db.scalar(select(model.id).where(model.key == key))
            for model, key in (
                (Category, "theft"), (Category, "drugs"), (Forum, "eastleigh-cpf"),
                (Forum, "kakuma-cpf"), (Area, "ke-eastleigh"),
            )
        }  # fmt: skip
        eastleigh = {"forum_id": ids["eastleigh-cpf"], "area_id": ids["ke-eastleigh"]}

        def row(n: int, created: datetime, **values: object) -> dict[str, object]:
            return case_row(n, created, **{"category_id": ids["theft"], **eastleigh, **values})

        await add_cases(db, [
            # The first second of this week, and the last of the one before.
            row(1, monday + timedelta(seconds=1), status="acknowledged",
                acknowledged_at=monday + timedelta(hours=1, seconds=1)),
            row(2, monday - timedelta(seconds=1), status="resolved",
                acknowledged_at=monday + timedelta(hours=2), satisfaction=5,
                resolved_at=monday + timedelta(hours=5)),
            row(3, monday - timedelta(days=3), category_id=ids["drugs"], status="resolved",
                acknowledged_at=monday - timedelta(days=3) + timedelta(hours=10),
                resolved_at=monday - timedelta(days=3) + timedelta(hours=7 + 10),
                satisfaction=4),
            row(4, monday - timedelta(weeks=20)),  # older than the dashboard's 12 weeks
            row(5, monday, forum_id=ids["kakuma-cpf"]),  # another forum
        ])  # fmt: skip
    this_week, last_week = week_of(monday), week_of(monday - timedelta(days=1))
    stats = (await staff["focal"].get("/api/v1/stats")).json()  # eastleigh-cpf only
    theft, drugs = "Theft, burglary or robbery", "Drugs or alcohol abuse"
    assert stats["weeks"][-1] == this_week and stats["weeks"][-2] == last_week
    assert stats["by_category"][theft][this_week] == 1
    assert stats["by_category"][theft][last_week] == 1
    assert stats["by_category"][drugs][last_week] == 1
    assert sum(sum(weeks.values()) for weeks in stats["by_category"].values()) == 3
    assert stats["by_status"] == {"acknowledged": 1, "resolved": 2}
    assert sum(stats["by_area"].values()) == 3
    assert stats["hours_to_acknowledge"] == 2.0  # 1, 2 and 10 hours: the middle one
    assert stats["hours_to_resolve"] == 11.0  # 5 and 17 hours: the mean of the two middle ones
    assert stats["satisfaction"] == {
        "answers": 2,
        "average": 4.5,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1},
    }
    everything = (await staff["admin"].get("/api/v1/stats")).json()
    assert sum(everything["by_status"].values()) == 4  # the other forum's case too
