"""Staff accounts, for admins: list, create, edit role and forums or units, deactivate,
reset a password (the work is in ``admin.staff_desk``, shared with the pages)."""

from __future__ import annotations

from fastapi import APIRouter

from admin import staff_desk as desk
from admin.deps import Admin, ClientDep, RowId, SessionDep
from admin.schemas import StaffCreate, StaffMember, StaffUpdate, errors

router = APIRouter(prefix="/staff", tags=["staff"], responses=errors(401, 403))


@router.get("", response_model=list[StaffMember])
async def staff(scope: Admin, db: SessionDep) -> list[StaffMember]:
    """Every account, with the forums and units it serves and its role in each."""
    return await desk.staff_list(db)


@router.post("", response_model=StaffMember, status_code=201, responses=errors(409, 422))
async def add_staff(
    body: StaffCreate, scope: Admin, db: SessionDep, client: ClientDep
) -> StaffMember:
    return await desk.add_staff(db, scope, body, client)


@router.get("/{staff_id}", response_model=StaffMember, responses=errors(404))
async def one_staff(staff_id: RowId, scope: Admin, db: SessionDep) -> StaffMember:
    return await desk.one(db, staff_id)


@router.patch("/{staff_id}", response_model=StaffMember, responses=errors(404, 409, 422))
async def edit_staff(
    staff_id: RowId, body: StaffUpdate, scope: Admin, db: SessionDep, client: ClientDep
) -> StaffMember:
    """Change what is given. Deactivating ends the account's sessions and tokens at once;
    an admin cannot deactivate or demote themselves (409)."""
    return await desk.edit_staff(db, scope, staff_id, body, client)
