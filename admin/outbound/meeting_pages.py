"""The meeting pages: upcoming and past meetings with their yes/no counts, the form to
schedule one, and one meeting with its reminders, a form to move it and one to cancel.

Times are typed and shown in the forum's time zone. Everything goes through
``admin.outbound.meetings``, as the API does.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from admin.deps import ClientDep, PageScope, RowId, ServicesDep, SessionDep
from admin.outbound import meetings as desk
from admin.outbound.page_kit import back, failed, is_refusal, optional, parse, refused, show, texts
from admin.outbound.schemas import MeetingMove, MeetingWrite
from admin.pages import render
from admin.scope import Scope
from bot.directory import Directory
from bot.meetings import forum_timezone

router = APIRouter(prefix="/admin/meetings", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
async def meetings_page(
    request: Request, db: SessionDep, scope: PageScope, services: ServicesDep
) -> Response:
    async def found() -> dict[str, Any]:
        return {"listing": await desk.listing(db, services, scope)}

    return await show(request, scope, "meetings.html", found())


@router.get("/new", response_class=HTMLResponse)
async def new_form(
    request: Request, db: SessionDep, scope: PageScope, services: ServicesDep
) -> Response:
    if not scope.reads_forum_news:
        return refused(request, scope, HTTPException(403))
    d = await services.runtime.directories.get(db)
    minutes = ", ".join(str(m) for m in desk.default_reminders(services))
    return _form(request, scope, d, {"agenda": {}, "reminders": minutes})


@router.post("/new", response_class=HTMLResponse)
async def schedule(
    request: Request,
    db: SessionDep,
    scope: PageScope,
    services: ServicesDep,
    client: ClientDep,
) -> Response:
    form = await request.form()
    d = await services.runtime.directories.get(db)
    values: dict[str, Any] = {
        "forum": optional(form, "forum"),
        "starts_at": optional(form, "starts_at"),
        "place": str(form.get("place") or "").strip(),
        "agenda": texts(form, "agenda_", d.languages),
        "reminders": str(form.get("reminders") or ""),
    }
    try:
        body = parse(MeetingWrite, {**values, "reminder_minutes": _minutes(values["reminders"])})
        created = await desk.schedule(db, services, scope, body, client)
    except HTTPException as exc:
        if is_refusal(exc):
            return refused(request, scope, exc)
        error = str(exc.detail)
        return _form(request, scope, d, values, error=error, status_code=exc.status_code)
    return back(f"/admin/meetings/{created.id}", done="Scheduled: members will be reminded.")


@router.get("/{meeting_id}", response_class=HTMLResponse)
async def meeting_page(
    meeting_id: RowId,
    request: Request,
    db: SessionDep,
    scope: PageScope,
    services: ServicesDep,
    done: str = "",
    error: str = "",
) -> Response:
    async def found() -> dict[str, Any]:
        meeting = await desk.detail(db, services, scope, meeting_id)
        local = meeting.starts_at.astimezone(ZoneInfo(meeting.timezone))
        return {"m": meeting, "local": local.strftime("%Y-%m-%dT%H:%M")}

    return await show(request, scope, "meeting.html", found(), done=done, error=error)


@router.post("/{meeting_id}/reschedule")
async def reschedule(
    meeting_id: RowId,
    request: Request,
    db: SessionDep,
    scope: PageScope,
    services: ServicesDep,
    client: ClientDep,
) -> Response:
    form = await request.form()
    page = f"/admin/meetings/{meeting_id}"
    values = {"starts_at": optional(form, "starts_at"), "place": optional(form, "place")}
    try:
        body = parse(MeetingMove, values)
        await desk.reschedule(db, services, scope, meeting_id, body, client)
    except HTTPException as exc:
        return failed(request, scope, exc, page)
    return back(page, done="Moved: those already reminded are told, and reminded again.")


@router.post("/{meeting_id}/cancel")
async def cancel(
    meeting_id: RowId,
    request: Request,
    db: SessionDep,
    scope: PageScope,
    services: ServicesDep,
    client: ClientDep,
) -> Response:
    page = f"/admin/meetings/{meeting_id}"
    try:
        await desk.cancel(db, services, scope, meeting_id, client)
    except HTTPException as exc:
        return failed(request, scope, exc, page)
    return back(page, done="Cancelled: those already reminded are told.")


def _minutes(text: str) -> list[int] | str:
    """ "1440, 120" as minutes; anything else is left for the schema to refuse."""
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    return [int(p) for p in parts] if all(p.isdigit() for p in parts) else text


def _form(
    request: Request,
    scope: Scope,
    d: Directory,
    values: dict[str, Any],
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    language = scope.staff.language
    forums = [
        (f.key, d.localized(f.names, language), forum_timezone(f.id, d))
        for f in d.forums.values()
        if scope.serves_forum(f.id)
    ]
    return render(
        request, "meeting_new.html", scope, status_code=status_code,
        values=values, error=error, forums=forums,
        languages=[(code, Locale.parse(code).english_name) for code in d.languages],
    )  # fmt: skip
