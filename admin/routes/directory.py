"""The directory: areas, forums, units and categories, read by all staff, edited by admins.

The work is done by ``admin.directory_desk`` (which the pages call too): each edit
is audited, reloads every process's directory, and is marked as made on the web so
that ``baraza import`` of the deployment file stops rather than undo it silently.
"""

from __future__ import annotations

from fastapi import APIRouter

from admin import directory_desk as desk
from admin.deps import Admin, ClientDep, ScopeDep, SessionDep
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
    errors,
)

router = APIRouter(tags=["directory"], responses=errors(401))
CREATE = errors(403, 409, 422)
EDIT = errors(403, 404, 422)


@router.get("/areas", response_model=list[AreaPublic])
async def areas(scope: ScopeDep, db: SessionDep) -> list[AreaPublic]:
    """Every area, by key, with its parent, time zone and quiet hours."""
    return await desk.areas(db)


@router.post("/areas", response_model=AreaPublic, status_code=201, responses=CREATE)
async def add_area(body: AreaWrite, scope: Admin, db: SessionDep, client: ClientDep) -> AreaPublic:
    return await desk.add_area(db, scope, body, client)


@router.patch("/areas/{key}", response_model=AreaPublic, responses=EDIT)
async def edit_area(
    key: str, body: AreaUpdate, scope: Admin, db: SessionDep, client: ClientDep
) -> AreaPublic:
    """Rename, move under another parent, set the time zone or quiet hours."""
    return await desk.edit_area(db, scope, key, body, client)


@router.get("/forums", response_model=list[PointPublic])
async def forums(scope: ScopeDep, db: SessionDep) -> list[PointPublic]:
    return await desk.points(db, "forums")


@router.post("/forums", response_model=PointPublic, status_code=201, responses=CREATE)
async def add_forum(
    body: PointWrite, scope: Admin, db: SessionDep, client: ClientDep
) -> PointPublic:
    return await desk.add_point(db, scope, "forums", body, client)


@router.patch("/forums/{key}", response_model=PointPublic, responses=EDIT)
async def edit_forum(
    key: str, body: PointUpdate, scope: Admin, db: SessionDep, client: ClientDep
) -> PointPublic:
    """Rename, change the areas covered, deactivate (cases keep pointing at it)."""
    return await desk.edit_point(db, scope, "forums", key, body, client)


@router.get("/units", response_model=list[PointPublic])
async def units(scope: ScopeDep, db: SessionDep) -> list[PointPublic]:
    return await desk.points(db, "units")


@router.post("/units", response_model=PointPublic, status_code=201, responses=CREATE)
async def add_unit(
    body: PointWrite, scope: Admin, db: SessionDep, client: ClientDep
) -> PointPublic:
    return await desk.add_point(db, scope, "units", body, client)


@router.patch("/units/{key}", response_model=PointPublic, responses=EDIT)
async def edit_unit(
    key: str, body: PointUpdate, scope: Admin, db: SessionDep, client: ClientDep
) -> PointPublic:
    return await desk.edit_point(db, scope, "units", key, body, client)


@router.get("/categories", response_model=list[CategoryPublic])
async def categories(scope: ScopeDep, db: SessionDep) -> list[CategoryPublic]:
    return await desk.categories(db)


@router.post("/categories", response_model=CategoryPublic, status_code=201, responses=CREATE)
async def add_category(
    body: CategoryWrite, scope: Admin, db: SessionDep, client: ClientDep
) -> CategoryPublic:
    return await desk.add_category(db, scope, body, client)


@router.patch("/categories/{key}", response_model=CategoryPublic, responses=EDIT)
async def edit_category(
    key: str, body: CategoryUpdate, scope: Admin, db: SessionDep, client: ClientDep
) -> CategoryPublic:
    return await desk.edit_category(db, scope, key, body, client)
