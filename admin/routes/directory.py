"""The directory: areas, forums, units, categories and staff, read by all, edited by admins.

The deployment file stays the source of truth for what it names: ``baraza import``
overwrites those fields again. Edits here are for changes between imports and for
what the file does not hold; each one bumps the deployment's revision (every
process reloads its directory) and is written to the audit log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from admin.audit import audit
from admin.deps import Admin, ClientDep, RowId, ScopeDep, SessionDep
from admin.schemas import (
    AreaPublic,
    AreaWrite,
    CategoryPublic,
    CategoryUpdate,
    CategoryWrite,
    PointPublic,
    PointUpdate,
    StaffCreate,
    StaffPublic,
    StaffUpdate,
)
from admin.scope import Scope
from bot.models import (
    Area,
    Category,
    Deployment,
    Forum,
    ForumArea,
    ForumStaff,
    ProtectionUnit,
    StaffUser,
    UnitArea,
    UnitStaff,
)
from bot.staff import hash_password

router = APIRouter(tags=["directory"])
POINTS: dict[str, tuple[Any, Any, Any]] = {
    "forums": (Forum, ForumArea, ForumArea.forum_id),
    "units": (ProtectionUnit, UnitArea, UnitArea.unit_id),
}


async def _changed(
    db: SessionDep,
    scope: Scope,
    client: str | None,
    target: str,
    detail: str,
    action: str = "directory_change",
) -> None:
    """Every process reloads its directory (the revision moves on), and the change is audited.
    A new row is not flushed here: its clash with an existing key surfaces at the commit,
    where ``_commit_new`` answers 409."""
    with db.no_autoflush:
        await db.execute(update(Deployment).values(revision=Deployment.revision + 1))
        await audit(db, action, staff=scope.staff, target=target, detail=detail, client=client)


async def _commit_new(db: SessionDep, what: str) -> None:
    """Commit a created row; its unique key settles a clash: 409, not a 500."""
    try:
        await db.commit()
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT, f"{what} with that key exists") from None


@router.get("/areas", response_model=list[AreaPublic])
async def areas(scope: ScopeDep, db: SessionDep) -> list[AreaPublic]:
    rows = list(await db.scalars(select(Area).order_by(Area.key)))
    keys = {a.id: a.key for a in rows}
    return [
        AreaPublic(
            key=a.key,
            parent=keys.get(a.parent_id) if a.parent_id else None,
            level=a.level,
            names=a.names,
            timezone=a.timezone,
        )
        for a in rows
    ]


@router.post("/areas", response_model=AreaPublic, status_code=status.HTTP_201_CREATED)
async def add_area(body: AreaWrite, scope: Admin, db: SessionDep, client: ClientDep) -> AreaPublic:
    parent_id = None
    if body.parent:
        parent_id = await db.scalar(select(Area.id).where(Area.key == body.parent))
        if parent_id is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "unknown parent area")
    db.add(Area(key=body.key, parent_id=parent_id, level=body.level, names=body.names,
                aliases=[], timezone=body.timezone))  # fmt: skip
    await _changed(db, scope, client, f"area:{body.key}", "created")
    await _commit_new(db, "an area")
    return AreaPublic(**body.model_dump())


async def _point_areas(db: SessionDep, kind: str) -> dict[int, list[str]]:
    _, link, owner = POINTS[kind]
    rows = await db.execute(select(owner, Area.key).join(Area, Area.id == link.area_id))
    found: dict[int, list[str]] = {}
    for point_id, key in rows.all():
        found.setdefault(point_id, []).append(key)
    return found


@router.get("/forums", response_model=list[PointPublic])
async def forums(scope: ScopeDep, db: SessionDep) -> list[PointPublic]:
    return await _points(db, "forums")


@router.get("/units", response_model=list[PointPublic])
async def units(scope: ScopeDep, db: SessionDep) -> list[PointPublic]:
    return await _points(db, "units")


async def _points(db: SessionDep, kind: str) -> list[PointPublic]:
    model = POINTS[kind][0]
    covered = await _point_areas(db, kind)
    return [
        PointPublic(key=p.key, names=p.names, areas=sorted(covered.get(p.id, [])), active=p.active)
        for p in await db.scalars(select(model).order_by(model.key))
    ]


@router.patch("/forums/{key}", response_model=PointPublic)
async def edit_forum(
    key: str, body: PointUpdate, scope: Admin, db: SessionDep, client: ClientDep
) -> PointPublic:
    return await _edit_point(db, "forums", key, body, scope, client)


@router.patch("/units/{key}", response_model=PointPublic)
async def edit_unit(
    key: str, body: PointUpdate, scope: Admin, db: SessionDep, client: ClientDep
) -> PointPublic:
    return await _edit_point(db, "units", key, body, scope, client)


async def _edit_point(
    db: SessionDep, kind: str, key: str, body: PointUpdate, scope: Admin, client: str | None
) -> PointPublic:
    model, link, owner = POINTS[kind]
    point = await db.scalar(select(model).where(model.key == key))
    if point is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such {kind[:-1]}")
    if body.names is not None:
        point.names = body.names
    if body.active is not None:
        point.active = body.active
    if body.areas is not None:
        ids = list(await db.scalars(select(Area.id).where(Area.key.in_(body.areas))))
        if len(ids) != len(set(body.areas)):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "unknown area key")
        await db.execute(delete(link).where(owner == point.id))
        column = "forum_id" if kind == "forums" else "unit_id"
        db.add_all(link(**{column: point.id, "area_id": area_id}) for area_id in ids)
    await _changed(db, scope, client, f"{kind[:-1]}:{key}", body.model_dump_json(exclude_none=True))
    await db.commit()
    return next(p for p in await _points(db, kind) if p.key == key)


@router.get("/categories", response_model=list[CategoryPublic])
async def categories(scope: ScopeDep, db: SessionDep) -> list[CategoryPublic]:
    rows = await db.scalars(select(Category).order_by(Category.position, Category.key))
    return [
        CategoryPublic(key=c.key, names=c.names, routes_to=c.routes_to, active=c.active)
        for c in rows
    ]


@router.post("/categories", response_model=CategoryPublic, status_code=201)
async def add_category(
    body: CategoryWrite, scope: Admin, db: SessionDep, client: ClientDep
) -> CategoryPublic:
    position = await db.scalar(select(Category.position).order_by(Category.position.desc()))
    db.add(Category(key=body.key, names=body.names, routes_to=body.routes_to,
                    active=body.active, position=(position or 0) + 1))  # fmt: skip
    await _changed(db, scope, client, f"category:{body.key}", "created")
    await _commit_new(db, "a category")
    return CategoryPublic(**body.model_dump())


@router.patch("/categories/{key}", response_model=CategoryPublic)
async def edit_category(
    key: str, body: CategoryUpdate, scope: Admin, db: SessionDep, client: ClientDep
) -> CategoryPublic:
    category = await db.scalar(select(Category).where(Category.key == key))
    if category is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such category")
    if body.names is not None:
        category.names = body.names
    if body.active is not None:
        category.active = body.active
    await _changed(db, scope, client, f"category:{key}", body.model_dump_json(exclude_none=True))
    await db.commit()
    return CategoryPublic(key=key, names=category.names, routes_to=category.routes_to,
                          active=category.active)  # fmt: skip


@router.get("/staff", response_model=list[StaffPublic])
async def staff(scope: Admin, db: SessionDep) -> list[StaffPublic]:
    rows = await db.scalars(select(StaffUser).order_by(StaffUser.email))
    return [StaffPublic.model_validate(s) for s in rows]


@router.post("/staff", response_model=StaffPublic, status_code=201)
async def add_staff(
    body: StaffCreate, scope: Admin, db: SessionDep, client: ClientDep
) -> StaffPublic:
    user = StaffUser(email=body.email.lower(), name=body.name, role=body.role,
                     language=body.language, password_hash=hash_password(body.password),
                     active=True)  # fmt: skip
    db.add(user)
    try:
        await db.flush()
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT, "an account with that email exists") from None
    for key, role in body.forums.items():
        forum_id = await db.scalar(select(Forum.id).where(Forum.key == key))
        if forum_id is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown forum {key}")
        db.add(ForumStaff(forum_id=forum_id, staff_id=user.id, role=role))
    for key, unit_role in body.units.items():
        unit_id = await db.scalar(select(ProtectionUnit.id).where(ProtectionUnit.key == key))
        if unit_id is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown unit {key}")
        db.add(UnitStaff(unit_id=unit_id, staff_id=user.id, role=unit_role))
    await _changed(db, scope, client, user.email, "created", action="staff_change")
    await db.commit()
    return StaffPublic.model_validate(user)


@router.patch("/staff/{staff_id}", response_model=StaffPublic)
async def edit_staff(
    staff_id: RowId, body: StaffUpdate, scope: Admin, db: SessionDep, client: ClientDep
) -> StaffPublic:
    user = await db.scalar(select(StaffUser).where(StaffUser.id == staff_id))
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such staff member")
    changes = body.model_dump(exclude_none=True)
    if "password" in changes:
        user.password_hash = hash_password(changes.pop("password"))
        changes["password"] = "reset"
    for field in ("name", "role", "language", "active"):
        if getattr(body, field) is not None:
            setattr(user, field, getattr(body, field))
    said = ", ".join(f"{k}={v}" for k, v in changes.items() if k != "password")
    await _changed(db, scope, client, user.email, said or "password reset", action="staff_change")
    await db.commit()
    return StaffPublic.model_validate(user)
