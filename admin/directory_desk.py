"""Editing the directory: areas, forums, units and categories, for the API and the pages.

Admins only (the callers check the role). Each change bumps the deployment's
revision, so every process reloads its directory, is written to the audit log, and
marks the fields it touched as edited on the web, so that the next ``baraza import``
of the deployment file does not undo it silently (``bot.deployment.web_edits``).
Refusals are ``HTTPException``s: the API returns them, the pages show them.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from admin.audit import audit
from admin.schemas import (
    AreaPublic,
    AreaUpdate,
    AreaWrite,
    CategoryPublic,
    CategoryUpdate,
    CategoryWrite,
    PointPublic,
    PointUpdate,
    PointWrite,
)
from admin.scope import Scope
from bot.deployment.web_edits import mark
from bot.models import Area, Category, Deployment, Forum, ForumArea, ProtectionUnit, UnitArea

# kind -> (table, its area links, the link's owner column name)
POINTS: dict[str, tuple[Any, Any, str]] = {
    "forums": (Forum, ForumArea, "forum_id"),
    "units": (ProtectionUnit, UnitArea, "unit_id"),
}


async def changed(
    db: AsyncSession,
    scope: Scope,
    client: str | None,
    target: str,
    detail: str,
    action: str = "directory_change",
) -> None:
    """Every process reloads its directory (the revision moves on), and the change is audited.
    A new row is not flushed here: its clash with an existing key surfaces at the commit,
    where ``commit_new`` answers 409."""
    with db.no_autoflush:
        await db.execute(update(Deployment).values(revision=Deployment.revision + 1))
        await audit(db, action, staff=scope.staff, target=target, detail=detail, client=client)


async def add_created(
    db: AsyncSession, scope: Scope, row: Any, clash: str, fields: tuple[str, ...] = ("created",)
) -> None:
    """A row made on the web: marked as such (an import will not delete it silently) and
    written now, so that its unique key settles a clash: a 409 saying `clash`, not a 500."""
    mark(row, list(fields), scope.staff.email)
    db.add(row)
    try:
        await db.flush()
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT, clash) from None


def unprocessable(message: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, message)


# ------------------------------------------------------------------ areas


async def areas(db: AsyncSession) -> list[AreaPublic]:
    rows = list(await db.scalars(select(Area).order_by(Area.key)))
    keys = {a.id: a.key for a in rows}
    return [
        AreaPublic(key=a.key, parent=keys.get(a.parent_id) if a.parent_id else None,
                   level=a.level, names=a.names, timezone=a.timezone, quiet_hours=a.quiet_hours)
        for a in rows
    ]  # fmt: skip


async def _area_id(db: AsyncSession, key: str) -> int:
    found = await db.scalar(select(Area.id).where(Area.key == key))
    if found is None:
        raise unprocessable(f"unknown area {key}")
    return found


async def _below(db: AsyncSession, area_id: int) -> set[int]:
    """The area and every area under it (a parent must not be among them)."""
    parents = dict((await db.execute(select(Area.id, Area.parent_id))).all())
    found = {area_id}
    grew = True
    while grew:
        more = {child for child, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


async def add_area(
    db: AsyncSession, scope: Scope, body: AreaWrite, client: str | None
) -> AreaPublic:
    parent_id = await _area_id(db, body.parent) if body.parent else None
    area = Area(key=body.key, parent_id=parent_id, level=body.level, names=body.names,
                aliases=[], timezone=body.timezone, quiet_hours=body.quiet_hours)  # fmt: skip
    await add_created(db, scope, area, "an area with that key exists")
    await changed(db, scope, client, f"area:{body.key}", "created")
    await db.commit()
    return AreaPublic(**body.model_dump())


async def edit_area(
    db: AsyncSession, scope: Scope, key: str, body: AreaUpdate, client: str | None
) -> AreaPublic:
    area = await db.scalar(select(Area).where(Area.key == key))
    if area is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such area")
    given = body.model_fields_set
    values: dict[str, Any] = {f: getattr(body, f) for f in ("level", "names") if f in given}
    values |= {f: getattr(body, f) for f in ("timezone", "quiet_hours") if f in given}
    if "parent" in given:
        parent_id = await _area_id(db, body.parent) if body.parent else None
        if parent_id is not None and parent_id in await _below(db, area.id):
            raise unprocessable("an area cannot sit under itself or one of its own areas")
        values["parent_id"] = parent_id
    touched = [name for name, value in values.items() if getattr(area, name) != value]
    for name in touched:
        setattr(area, name, values[name])
    if touched:
        mark(area, touched, scope.staff.email)
        await changed(db, scope, client, f"area:{key}", body.model_dump_json(exclude_unset=True))
        await db.commit()
    return next(a for a in await areas(db) if a.key == key)


# ------------------------------------------------------------------ forums and units


async def points(db: AsyncSession, kind: str) -> list[PointPublic]:
    model, link, owner = POINTS[kind]
    rows = await db.execute(
        select(getattr(link, owner), Area.key).join(Area, Area.id == link.area_id)
    )
    covered: dict[int, list[str]] = {}
    for point_id, key in rows.all():
        covered.setdefault(point_id, []).append(key)
    return [
        PointPublic(key=p.key, names=p.names, areas=sorted(covered.get(p.id, [])), active=p.active)
        for p in await db.scalars(select(model).order_by(model.key))
    ]


async def _set_areas(db: AsyncSession, kind: str, point_id: int, keys: list[str]) -> None:
    _, link, owner = POINTS[kind]
    ids = list(await db.scalars(select(Area.id).where(Area.key.in_(keys))))
    if len(ids) != len(set(keys)):
        raise unprocessable("unknown area key")
    await db.execute(delete(link).where(getattr(link, owner) == point_id))
    db.add_all(link(**{owner: point_id, "area_id": area_id}) for area_id in ids)


async def add_point(
    db: AsyncSession, scope: Scope, kind: str, body: PointWrite, client: str | None
) -> PointPublic:
    model = POINTS[kind][0]
    point = model(key=body.key, names=body.names, active=body.active)
    # The key's unique index settles a clash (two admins at once too): a 409.
    await add_created(db, scope, point, f"a {kind[:-1]} with that key exists")
    await _set_areas(db, kind, point.id, body.areas)
    await changed(db, scope, client, f"{kind[:-1]}:{body.key}", "created")
    await db.commit()
    return next(p for p in await points(db, kind) if p.key == body.key)


async def edit_point(
    db: AsyncSession, scope: Scope, kind: str, key: str, body: PointUpdate, client: str | None
) -> PointPublic:
    model = POINTS[kind][0]
    point = await db.scalar(select(model).where(model.key == key))
    if point is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such {kind[:-1]}")
    before = next(p for p in await points(db, kind) if p.key == key)
    touched = [
        name
        for name in ("names", "active", "areas")
        if getattr(body, name) is not None and getattr(body, name) != getattr(before, name)
    ]
    if body.names is not None:
        point.names = body.names
    if body.active is not None:
        point.active = body.active
    if "areas" in touched and body.areas is not None:
        await _set_areas(db, kind, point.id, body.areas)
    if touched:
        mark(point, touched, scope.staff.email)
        await changed(db, scope, client, f"{kind[:-1]}:{key}",
                      body.model_dump_json(exclude_none=True))  # fmt: skip
        await db.commit()
    return next(p for p in await points(db, kind) if p.key == key)


# ------------------------------------------------------------------ categories


async def categories(db: AsyncSession) -> list[CategoryPublic]:
    rows = await db.scalars(select(Category).order_by(Category.position, Category.key))
    return [
        CategoryPublic(key=c.key, names=c.names, routes_to=c.routes_to, active=c.active)
        for c in rows
    ]


async def add_category(
    db: AsyncSession, scope: Scope, body: CategoryWrite, client: str | None
) -> CategoryPublic:
    position = await db.scalar(select(Category.position).order_by(Category.position.desc()))
    category = Category(key=body.key, names=body.names, routes_to=body.routes_to,
                        active=body.active, position=(position or 0) + 1)  # fmt: skip
    await add_created(db, scope, category, "a category with that key exists")
    await changed(db, scope, client, f"category:{body.key}", "created")
    await db.commit()
    return CategoryPublic(**body.model_dump())


async def edit_category(
    db: AsyncSession, scope: Scope, key: str, body: CategoryUpdate, client: str | None
) -> CategoryPublic:
    category = await db.scalar(select(Category).where(Category.key == key))
    if category is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such category")
    touched = [
        name
        for name in ("names", "active")
        if getattr(body, name) is not None and getattr(body, name) != getattr(category, name)
    ]
    for name in touched:
        setattr(category, name, getattr(body, name))
    if touched:
        mark(category, touched, scope.staff.email)
        await changed(db, scope, client, f"category:{key}", body.model_dump_json(exclude_none=True))
        await db.commit()
    return CategoryPublic(key=key, names=category.names, routes_to=category.routes_to,
                          active=category.active)  # fmt: skip
