"""The directory pages: every area, forum, unit, category and (for admins) staff account,
and for admins a form to add or edit each.

Forms become the API's own bodies and go through the same desks
(``admin.directory_desk``, ``admin.staff_desk``), so a page edit is checked, audited
and marked as a web edit exactly like an API call. Lists are read from the database,
not from a process's cached directory, so a change shows on the next page at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel import Locale
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from starlette.datastructures import FormData

from admin import directory_desk, staff_desk
from admin.deps import ClientDep, PageScope, ServicesDep, SessionDep
from admin.outbound.page_kit import back, is_refusal, optional, parse, refused, texts
from admin.pages import render
from admin.schemas import (
    AreaUpdate,
    AreaWrite,
    CategoryUpdate,
    CategoryWrite,
    PointUpdate,
    PointWrite,
    StaffCreate,
    StaffUpdate,
)
from admin.scope import ROLES, Scope

router = APIRouter(prefix="/admin/directory", include_in_schema=False)
KINDS = ("areas", "forums", "units", "categories", "staff")


@dataclass(frozen=True)
class Choices:
    """What the forms offer: the deployment's languages, areas, forums and units."""

    languages: list[tuple[str, str]]
    areas: list[Any]
    forums: list[Any]
    units: list[Any]


async def _choices(db: SessionDep, services: ServicesDep) -> Choices:
    directory = await services.runtime.directories.get(db)
    return Choices(
        [(code, Locale.parse(code).english_name or code) for code in directory.languages],
        await directory_desk.areas(db),
        await directory_desk.points(db, "forums"),
        await directory_desk.points(db, "units"),
    )


@router.get("", response_class=HTMLResponse)
async def directory_page(
    request: Request, db: SessionDep, scope: PageScope, services: ServicesDep, done: str = ""
) -> Response:
    choices = await _choices(db, services)
    staff = await staff_desk.staff_list(db) if scope.is_admin else []
    categories = await directory_desk.categories(db)
    directory = await services.runtime.directories.get(db)
    return render(request, "directory.html", scope, c=choices, categories=categories,
                  staff=staff, deployment=directory.name, language=scope.staff.language,
                  done=done)  # fmt: skip


async def _current(db: SessionDep, kind: str, key: str) -> Any:
    """The row as the API shows it, or a 404."""
    if kind == "staff":
        return await staff_desk.one(db, int(key) if key.isdigit() else -1)
    rows: list[Any]
    if kind == "areas":
        rows = await directory_desk.areas(db)
    elif kind == "categories":
        rows = await directory_desk.categories(db)
    else:
        rows = await directory_desk.points(db, kind)
    for row in rows:
        if row.key == key:
            return row
    raise HTTPException(404)


def _form(
    request: Request, scope: Scope, kind: str, choices: Choices, values: Any, *,
    key: str | None = None, error: str = "", done: str = "", status_code: int = 200,
) -> Response:  # fmt: skip
    return render(
        request, f"directory_{_template(kind)}.html", scope, status_code=status_code,
        kind=kind, key=key, v=values, c=choices, roles=ROLES, error=error, done=done,
    )  # fmt: skip


@router.get("/{kind}/new", response_class=HTMLResponse)
async def new_form(
    kind: str, request: Request, db: SessionDep, scope: PageScope, services: ServicesDep
) -> Response:
    if kind not in KINDS or not scope.is_admin:
        return refused(request, scope, HTTPException(404 if kind not in KINDS else 403))
    blank: dict[str, Any] = {"names": {}, "areas": [], "active": True, "forums": {}, "units": {}}
    return _form(request, scope, kind, await _choices(db, services), blank)


@router.get("/{kind}/{key}", response_class=HTMLResponse)
async def edit_form(
    kind: str, key: str, request: Request, db: SessionDep, scope: PageScope,
    services: ServicesDep, done: str = "",
) -> Response:  # fmt: skip
    if kind not in KINDS or not scope.is_admin:
        return refused(request, scope, HTTPException(404 if kind not in KINDS else 403))
    try:
        current = await _current(db, kind, key)
    except HTTPException as exc:
        return refused(request, scope, exc)
    choices = await _choices(db, services)
    return _form(request, scope, kind, choices, current.model_dump(), key=key, done=done)


def _template(kind: str) -> str:
    return {"forums": "point", "units": "point", "areas": "area"}.get(kind, kind.rstrip("s"))


def _roles_in(form: FormData, prefix: str, places: list[Any]) -> dict[str, str]:
    """``<prefix><key>`` selects: the place key -> the role chosen (blank: none)."""
    found = {p.key: str(form.get(f"{prefix}{p.key}") or "") for p in places}
    return {key: role for key, role in found.items() if role}


def _values(kind: str, form: FormData, choices: Choices, new: bool) -> dict[str, Any]:
    """The form as the API body's fields (all of them: the desks change what differs)."""
    languages = tuple(code for code, _ in choices.languages)
    if kind == "staff":
        values: dict[str, Any] = {
            "name": str(form.get("name") or "").strip(),
            "role": str(form.get("role") or ""),
            "language": str(form.get("language") or "en"),
            "forums": _roles_in(form, "forum_", choices.forums),
            "units": _roles_in(form, "unit_", choices.units),
        }
        if new:
            values |= {"email": str(form.get("email") or "").strip(),
                       "password": str(form.get("password") or "")}  # fmt: skip
        else:
            values["active"] = form.get("active") == "on"
            if optional(form, "password"):
                values["password"] = str(form.get("password"))
        return values
    values = {"names": texts(form, "name_", languages)}
    if kind == "areas":
        values |= {
            "parent": optional(form, "parent"),
            "level": str(form.get("level") or "").strip(),
            "timezone": optional(form, "timezone"),
            "quiet_hours": optional(form, "quiet_hours"),
        }
    elif kind in ("forums", "units"):
        values |= {"areas": form.getlist("areas"), "active": form.get("active") == "on"}
    else:
        values["active"] = form.get("active") == "on"
        if new:
            values["routes_to"] = str(form.get("routes_to") or "forum")
    if new:
        values["key"] = str(form.get("key") or "").strip()
    return values


BODIES: dict[tuple[str, bool], type[BaseModel]] = {
    ("areas", True): AreaWrite, ("areas", False): AreaUpdate,
    ("forums", True): PointWrite, ("forums", False): PointUpdate,
    ("units", True): PointWrite, ("units", False): PointUpdate,
    ("categories", True): CategoryWrite, ("categories", False): CategoryUpdate,
    ("staff", True): StaffCreate, ("staff", False): StaffUpdate,
}  # fmt: skip


async def _save(
    db: SessionDep, scope: Scope, kind: str, key: str | None, body: Any, client: str | None
) -> str:
    """Create (``key`` None) or edit through the desks; returns the row's key."""
    if kind == "staff":
        if key is None:
            return str((await staff_desk.add_staff(db, scope, body, client)).id)
        return str((await staff_desk.edit_staff(db, scope, int(key), body, client)).id)
    if kind == "areas":
        if key is None:
            return (await directory_desk.add_area(db, scope, body, client)).key
        return (await directory_desk.edit_area(db, scope, key, body, client)).key
    if kind == "categories":
        if key is None:
            return (await directory_desk.add_category(db, scope, body, client)).key
        return (await directory_desk.edit_category(db, scope, key, body, client)).key
    if key is None:
        return (await directory_desk.add_point(db, scope, kind, body, client)).key
    return (await directory_desk.edit_point(db, scope, kind, key, body, client)).key


@router.post("/{kind}/{key}", response_class=HTMLResponse)
async def save(
    kind: str, key: str, request: Request, db: SessionDep, scope: PageScope,
    services: ServicesDep, client: ClientDep,
) -> Response:  # fmt: skip
    """One form for a new row (``key`` "new") and for an edit (CSRF checked by PageScope)."""
    if kind not in KINDS or not scope.is_admin:
        return refused(request, scope, HTTPException(404 if kind not in KINDS else 403))
    new = key == "new"
    choices = await _choices(db, services)
    values = _values(kind, await request.form(), choices, new)
    try:
        body = parse(BODIES[kind, new], values)
        saved = await _save(db, scope, kind, None if new else key, body, client)
    except HTTPException as exc:
        if is_refusal(exc):
            return refused(request, scope, exc)
        await db.rollback()  # whatever was half done; the page still names its reader
        await db.refresh(scope.staff)
        return _form(request, scope, kind, choices, {**values, "password": ""},
                     key=None if new else key, error=str(exc.detail),
                     status_code=exc.status_code)  # fmt: skip
    return back(f"/admin/directory/{kind}/{saved}", done="Created." if new else "Saved.")
