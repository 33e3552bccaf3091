"""Reading cases for staff, always through their scope: lists, one case, its timeline.

Every query here starts from ``Scope.cases()``, so the API, the pages and the
exports cannot forget it. A case outside the scope is None (the caller answers
404), and each read of one case is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.audit import audit
from admin.schemas import CaseDetail, CaseSummary, TimelineEntry
from admin.scope import Scope, load_scope
from bot.casework import reporter_of, why_not_contact
from bot.directory import Directory
from bot.models import Case, CaseMessage, ForumStaff, StaffUser, UnitStaff
from flows.answers import format_reference, normalise_reference

PER_PAGE_MAX = 100


@dataclass(frozen=True)
class CaseFilters:
    status: str | None = None
    forum: str | None = None
    unit: str | None = None
    category: str | None = None
    area: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    kind: str | None = None


def scoped(scope: Scope, filters: CaseFilters, directory: Directory) -> Select[Case]:
    query = select(Case).where(scope.cases())
    if filters.status:
        query = query.where(Case.status == filters.status)
    if filters.kind:
        query = query.where(Case.kind == filters.kind)
    if filters.forum:
        ids = [f.id for f in directory.forums.values() if f.key == filters.forum]
        query = query.where(Case.forum_id.in_(ids))
    if filters.unit:
        ids = [u.id for u in directory.units.values() if u.key == filters.unit]
        query = query.where(Case.unit_id.in_(ids))
    if filters.category:
        category = directory.categories_by_key.get(filters.category)
        query = query.where(Case.category_id == (category.id if category else -1))
    if filters.area:  # the area and everything below it
        area = directory.areas_by_key.get(filters.area)
        below = [a for a in directory.areas if area and area.id in directory.ancestors(a)]
        query = query.where(Case.area_id.in_(below))
    if filters.since:
        query = query.where(Case.created_at >= filters.since)
    if filters.until:
        query = query.where(Case.created_at < filters.until)
    return query


async def list_cases(
    db: AsyncSession,
    scope: Scope,
    directory: Directory,
    filters: CaseFilters,
    *,
    page: int = 1,
    per_page: int = 25,
) -> tuple[list[CaseSummary], int]:
    per_page = max(1, min(per_page, PER_PAGE_MAX))
    query = scoped(scope, filters, directory)
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await db.scalars(
        query.order_by(Case.updated_at.desc(), Case.id.desc())
        .offset((max(page, 1) - 1) * per_page)
        .limit(per_page)
    )
    cases = list(rows)
    names = await _staff_names(db, {c.assigned_to_id for c in cases if c.assigned_to_id})
    return [summary(c, directory, scope.staff.language, names) for c in cases], int(total)


async def _staff_names(db: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await db.execute(select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(ids)))
    return {staff_id: name for staff_id, name in rows.all()}


def summary(case: Case, directory: Directory, language: str, names: dict[int, str]) -> CaseSummary:
    category = directory.categories_by_id.get(case.category_id)
    forum = directory.forums.get(case.forum_id) if case.forum_id else None
    unit = directory.units.get(case.unit_id) if case.unit_id else None
    return CaseSummary(
        reference=format_reference(case.reference),
        kind=case.kind,
        status=case.status,
        category=directory.localized(category.names, language) if category else None,
        area=(
            directory.area_label(case.area_id, language)
            if case.area_id in directory.areas
            else None
        ),
        forum=directory.localized(forum.names, language) if forum else None,
        unit=directory.localized(unit.names, language) if unit else None,
        channel=case.channel,
        language=case.language,
        assigned_to=names.get(case.assigned_to_id) if case.assigned_to_id else None,
        created_at=case.created_at,
        updated_at=case.updated_at,
    )


async def find_case(db: AsyncSession, scope: Scope, reference: str) -> Case | None:
    """One case by its code, only within the scope: another forum's case is not found."""
    code = normalise_reference(reference)
    if code is None:
        return None
    return await db.scalar(select(Case).where(Case.reference == code, scope.cases()))


async def read_case(
    db: AsyncSession, scope: Scope, directory: Directory, case: Case, client: str | None
) -> CaseDetail:
    """The whole case with its timeline; the read is audited (who, when, which case)."""
    await audit(db, "case_read", staff=scope.staff, case_id=case.id, client=client)
    entries = (
        await db.execute(
            select(CaseMessage, StaffUser.name)
            .outerjoin(StaffUser, StaffUser.id == CaseMessage.staff_id)
            .where(CaseMessage.case_id == case.id)
            .order_by(CaseMessage.created_at, CaseMessage.id)
        )
    ).all()
    timeline = [
        TimelineEntry(at=m.created_at, kind=m.direction, text=m.body, by=name)
        for m, name in entries
    ]
    reachable = not why_not_contact(case, await reporter_of(db, case))
    names = await _staff_names(db, {case.assigned_to_id} if case.assigned_to_id else set())
    base = summary(case, directory, scope.staff.language, names)
    return CaseDetail(
        **base.model_dump(),
        anonymous=case.anonymous,
        reporter_name=None if case.anonymous else case.reporter_name,
        description=case.description,
        acknowledged_at=case.acknowledged_at,
        resolved_at=case.resolved_at,
        closed_at=case.closed_at,
        satisfaction=case.satisfaction,
        satisfaction_comment=case.satisfaction_comment,
        help_type=case.help_type,
        consent_to_services=case.consent_service,
        may_contact=reachable,
        contact_time=case.contact_time if case.kind == "protection" else None,
        consent_withdrawn_at=case.consent_withdrawn_at,
        timeline=timeline,
    )


async def assignable(db: AsyncSession, case: Case) -> list[StaffUser]:
    """Who a case can be assigned to: the active staff who could open it themselves (the
    same ``Scope.cases()`` rule as every read), by name."""
    linked = (
        select(ForumStaff.staff_id)
        .where(ForumStaff.forum_id == case.forum_id)
        .union(select(UnitStaff.staff_id).where(UnitStaff.unit_id == case.unit_id))
    )
    candidates = await db.scalars(
        select(StaffUser)
        .where(StaffUser.active.is_(True))
        .where(StaffUser.id.in_(linked) | (StaffUser.role == "admin"))
        .order_by(StaffUser.name)
    )
    found = []
    for person in list(candidates):
        scope = await load_scope(db, person)
        if await db.scalar(select(Case.id).where(Case.id == case.id, scope.cases())):
            found.append(person)
    return found
