"""Trends and exports: aggregates as JSON and CSV, and cases as CSV without personal data."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import Response

from admin.audit import audit
from admin.casebook import CaseFilters, scoped
from admin.deps import ClientDep, ScopeDep, ServicesDep, SessionDep
from admin.trends import aggregate_rows, trends
from bot.models import Case
from flows.answers import format_reference

router = APIRouter(tags=["trends"])
CASE_COLUMNS = (
    "reference", "status", "category", "area", "forum", "channel", "language", "anonymous",
    "created_at", "acknowledged_at", "resolved_at", "closed_at", "satisfaction",
)  # fmt: skip


def _csv(rows: Iterable[Iterable[Any]], name: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/stats")
async def stats(
    scope: ScopeDep, db: SessionDep, services: ServicesDep, forum: str | None = None
) -> dict[str, Any]:
    """Concerns by category per week and by area, times to acknowledge and resolve,
    satisfaction; opt-outs and message volumes for the programme (admins, viewers);
    protection cases as anonymous counts (admins, protection officers, viewers)."""
    directory = await services.runtime.directories.get(db)
    return asdict(await trends(db, scope, directory, forum))


@router.get("/exports/aggregates.csv", response_class=Response)
async def export_aggregates(
    scope: ScopeDep, db: SessionDep, services: ServicesDep, client: ClientDep,
    forum: str | None = None,
) -> Response:  # fmt: skip
    directory = await services.runtime.directories.get(db)
    rows = aggregate_rows(await trends(db, scope, directory, forum))
    await audit(db, "export", staff=scope.staff, target="aggregates.csv", client=client)
    await db.commit()
    return _csv([("metric", "period", "key", "value"), *rows], "baraza-aggregates.csv")


@router.get("/exports/cases.csv", response_class=Response)
async def export_cases(
    scope: ScopeDep, db: SessionDep, services: ServicesDep, client: ClientDep
) -> Response:
    """The concerns in scope, one row each, with no narrative, name or address. Protection
    cases are never exported one by one: they are in the aggregates as counts."""
    if not scope.works_cases:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role sees aggregates only")
    directory = await services.runtime.directories.get(db)
    query = scoped(scope, CaseFilters(kind="concern"), directory).order_by(Case.id)

    def row(case: Case) -> tuple[Any, ...]:
        category = directory.categories_by_id.get(case.category_id)
        area = directory.areas.get(case.area_id) if case.area_id else None
        forum = directory.forums.get(case.forum_id) if case.forum_id else None
        return (
            format_reference(case.reference), case.status,
            category.key if category else None, area.key if area else None,
            forum.key if forum else None, case.channel, case.language, case.anonymous,
            case.created_at.isoformat(), *(
                moment.isoformat() if moment else None
                for moment in (case.acknowledged_at, case.resolved_at, case.closed_at)
            ), case.satisfaction,
        )  # fmt: skip

    cases = [row(c) async for c in await db.stream_scalars(query.execution_options(yield_per=500))]
    await audit(db, "export", staff=scope.staff, target="cases.csv",
                detail=f"{len(cases)} cases", client=client)  # fmt: skip
    await db.commit()
    return _csv([CASE_COLUMNS, *cases], "baraza-cases.csv")
