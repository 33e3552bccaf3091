"""Staff accounts for admins, for the API and the pages: create, change role and the
forums and units served, deactivate, reset a password.

A deactivated account cannot sign in (``admin.security.authenticate``) and its
sessions and API tokens are deleted at once, so nothing it opened keeps working.
Every change is audited and marked as a web edit, like the rest of the directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.directory_desk import add_created, changed, unprocessable
from admin.schemas import StaffCreate, StaffMember, StaffUpdate
from admin.scope import Scope
from bot.deployment.web_edits import mark
from bot.models import Forum, ForumStaff, ProtectionUnit, StaffToken, StaffUser, UnitStaff
from bot.staff import hash_password

# "forums" / "units" -> (the place table, the role links, the link's place column)
PLACES: dict[str, tuple[Any, Any, str]] = {
    "forums": (Forum, ForumStaff, "forum_id"),
    "units": (ProtectionUnit, UnitStaff, "unit_id"),
}
# A chair is named before a focal point when someone is both in one forum.
RANK = {"chair": 0, "officer": 0, "focal_point": 1}


async def _roles(
    db: AsyncSession, staff_ids: list[int] | None = None
) -> dict[int, dict[str, dict[str, str]]]:
    """staff id -> "forums"/"units" -> place key -> role."""
    found: dict[int, dict[str, dict[str, str]]] = {}
    for kind, (model, link, column) in PLACES.items():
        query = select(link.staff_id, model.key, link.role).join(
            model, model.id == getattr(link, column)
        )
        if staff_ids is not None:
            query = query.where(link.staff_id.in_(staff_ids))
        rows = sorted((await db.execute(query)).all(), key=lambda r: -RANK.get(r[2], 1))
        for staff_id, key, role in rows:
            found.setdefault(staff_id, {"forums": {}, "units": {}})[kind][key] = role
    return found


def _member(user: StaffUser, roles: dict[int, dict[str, dict[str, str]]]) -> StaffMember:
    held = roles.get(user.id, {})
    return StaffMember(
        id=user.id, email=user.email, name=user.name, role=user.role, language=user.language,
        active=user.active, forums=held.get("forums", {}), units=held.get("units", {}),
    )  # fmt: skip


async def staff_list(db: AsyncSession) -> list[StaffMember]:
    roles = await _roles(db)
    return [
        _member(u, roles) for u in await db.scalars(select(StaffUser).order_by(StaffUser.email))
    ]


async def one(db: AsyncSession, staff_id: int) -> StaffMember:
    user = await db.scalar(select(StaffUser).where(StaffUser.id == staff_id))
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such staff member")
    return _member(user, await _roles(db, [user.id]))


async def _set_roles(
    db: AsyncSession, user: StaffUser, kind: str, wanted: Mapping[str, str]
) -> None:
    model, link, column = PLACES[kind]
    found = await db.execute(select(model.key, model.id).where(model.key.in_(wanted)))
    ids: dict[str, int] = {key: place_id for key, place_id in found.all()}
    unknown = sorted(set(wanted) - set(ids))
    if unknown:
        raise unprocessable(f"unknown {kind[:-1]} {', '.join(unknown)}")
    await db.execute(delete(link).where(link.staff_id == user.id))
    db.add_all(link(**{column: ids[key], "staff_id": user.id, "role": role})
               for key, role in wanted.items())  # fmt: skip


async def add_staff(
    db: AsyncSession, scope: Scope, body: StaffCreate, client: str | None
) -> StaffMember:
    user = StaffUser(email=body.email.lower(), name=body.name, role=body.role,
                     language=body.language, password_hash=hash_password(body.password),
                     active=True)  # fmt: skip
    await add_created(
        db, scope, user, "an account with that email exists", ("created", "memberships")
    )
    await _set_roles(db, user, "forums", body.forums)
    await _set_roles(db, user, "units", body.units)
    await changed(db, scope, client, user.email, "created", action="staff_change")
    await db.commit()
    return await one(db, user.id)


async def edit_staff(
    db: AsyncSession, scope: Scope, staff_id: int, body: StaffUpdate, client: str | None
) -> StaffMember:
    user = await db.scalar(select(StaffUser).where(StaffUser.id == staff_id))
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such staff member")
    if user.id == scope.staff.id and (body.active is False or body.role not in (None, "admin")):
        raise HTTPException(status.HTTP_409_CONFLICT, "you cannot lock yourself out")
    before = _member(user, await _roles(db, [user.id]))
    said: list[str] = []
    for name in ("name", "role", "language", "active"):
        value = getattr(body, name)
        if value is not None and value != getattr(user, name):
            setattr(user, name, value)
            said.append(f"{name}={value}")
    if body.active is False:  # every session and token it holds ends now
        await db.execute(delete(StaffToken).where(StaffToken.staff_id == user.id))
    for kind in ("forums", "units"):
        wanted = getattr(body, kind)
        if wanted is not None and wanted != getattr(before, kind):
            await _set_roles(db, user, kind, wanted)
            said.append(f"{kind}={','.join(f'{k}:{r}' for k, r in wanted.items()) or 'none'}")
    fields = [s.split("=")[0] for s in said]
    if any(kind in fields for kind in ("forums", "units")):
        fields = [f for f in fields if f not in ("forums", "units")] + ["memberships"]
    if body.password is not None:
        user.password_hash = hash_password(body.password)
        said.append("password reset")
    if not said:
        return before
    if fields:
        mark(user, fields, scope.staff.email)
    await changed(db, scope, client, user.email, ", ".join(said), action="staff_change")
    await db.commit()
    return await one(db, user.id)
