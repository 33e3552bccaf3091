"""The broadcast pages: the list, the new-broadcast form with its preview step, and one
broadcast with a live progress bar and a cancel button.

Sending takes two presses: Preview shows who it reaches and what it costs, and the
send button appears with a fingerprint of what was previewed; a form changed after
its preview is previewed again rather than sent unseen. Everything goes through
``admin.outbound.broadcasts``, as the API does.
"""

from __future__ import annotations

import hashlib
from typing import Any

from babel import Locale
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from admin.deps import ClientDep, PageNumber, PageScope, RowId, ServicesDep, SessionDep
from admin.outbound import broadcasts as desk
from admin.outbound.page_kit import back, failed, is_refusal, optional, parse, refused, show, texts
from admin.outbound.schemas import BroadcastPreview, BroadcastWrite, ChannelName
from admin.pages import render
from admin.scope import Scope
from bot.directory import Directory
from bot.dispatcher import LIVE
from bot.meetings import forum_timezone

router = APIRouter(prefix="/admin/broadcasts", include_in_schema=False)
CHANNELS: tuple[ChannelName, ...] = ("telegram", "whatsapp", "sms")
CHANGED = "The broadcast changed after its preview: check these figures, then send."


@router.get("", response_class=HTMLResponse)
async def broadcasts_page(
    request: Request,
    db: SessionDep,
    scope: PageScope,
    services: ServicesDep,
    page: PageNumber = 1,
) -> Response:
    async def found() -> dict[str, Any]:
        listing = await desk.listing(db, services, scope, page=max(page, 1), per_page=25)
        return {"listing": listing}

    return await show(request, scope, "broadcasts.html", found())


@router.get("/new", response_class=HTMLResponse)
async def new_form(
    request: Request, db: SessionDep, scope: PageScope, services: ServicesDep
) -> Response:
    if not scope.broadcasts:
        return refused(request, scope, HTTPException(403))
    d = await services.runtime.directories.get(db)
    forums = _forums(scope, d)
    values: dict[str, Any] = {
        "audience": "forum",
        "forum": forums[0][0] if forums else None,
        "fallback_language": d.default_language,
        "texts": {},
    }
    return _form(request, scope, d, values)


@router.post("/new", response_class=HTMLResponse)
async def new_broadcast(
    request: Request,
    db: SessionDep,
    scope: PageScope,
    services: ServicesDep,
    client: ClientDep,
) -> Response:
    """Preview (the default button), or send what was previewed."""
    form = await request.form()
    d = await services.runtime.directories.get(db)
    values: dict[str, Any] = {
        "audience": str(form.get("audience") or "forum"),
        "forum": optional(form, "forum"),
        "area": optional(form, "area"),
        "texts": texts(form, "text_", d.languages),
        "fallback_language": str(form.get("fallback_language") or d.default_language),
        "languages": form.getlist("languages"),
        "channels": form.getlist("channels"),
        "urgent": form.get("urgent") == "on",
        "send_at": optional(form, "send_at"),
    }
    sending = form.get("step") == "send"
    try:
        body = parse(BroadcastWrite, _body(values))
        if sending and form.get("checked") == fingerprint(body):
            created = await desk.send(db, services, scope, body, client)
            said = "Scheduled." if body.send_at else "On its way."
            return back(f"/admin/broadcasts/{created.id}", done=said)
        figures = await desk.preview(db, services, scope, body)
    except HTTPException as exc:
        if is_refusal(exc):
            return refused(request, scope, exc)
        error = str(exc.detail)
        return _form(request, scope, d, values, error=error, status_code=exc.status_code)
    return _form(
        request, scope, d, values,
        preview=figures, checked=fingerprint(body), error=CHANGED if sending else "",
    )  # fmt: skip


@router.get("/{broadcast_id}", response_class=HTMLResponse)
async def broadcast_page(
    broadcast_id: RowId,
    request: Request,
    db: SessionDep,
    scope: PageScope,
    services: ServicesDep,
    done: str = "",
    error: str = "",
) -> Response:
    async def found() -> dict[str, Any]:
        broadcast = await desk.detail(db, services, scope, broadcast_id)
        return {"b": broadcast, "live": broadcast.status in LIVE}

    return await show(request, scope, "broadcast.html", found(), done=done, error=error)


@router.post("/{broadcast_id}/cancel")
async def cancel(
    broadcast_id: RowId,
    request: Request,
    db: SessionDep,
    scope: PageScope,
    services: ServicesDep,
    client: ClientDep,
) -> Response:
    page = f"/admin/broadcasts/{broadcast_id}"
    try:
        result = await desk.cancel(db, services, scope, broadcast_id, client)
    except HTTPException as exc:
        return failed(request, scope, exc, page)
    not_sent = result.progress.skipped.get("cancelled", 0)
    return back(page, done=f"Cancelled: {not_sent} messages will not be sent.")


def fingerprint(body: BroadcastWrite) -> str:
    """What was previewed, so that only that is sent."""
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()[:24]


def _body(values: dict[str, Any]) -> dict[str, Any]:
    """The API body of the form: only the place its audience names."""
    audience = values["audience"]
    return {
        **values,
        "forum": values["forum"] if audience == "forum" else None,
        "area": values["area"] if audience == "area" else None,
    }


def _forums(scope: Scope, d: Directory) -> list[tuple[str, str, str]]:
    """The forums this person may broadcast to: key, name, time zone."""
    language = scope.staff.language
    return [
        (f.key, d.localized(f.names, language), forum_timezone(f.id, d))
        for f in d.forums.values()
        if scope.broadcasts_to(f.id)
    ]


def _form(
    request: Request,
    scope: Scope,
    d: Directory,
    values: dict[str, Any],
    *,
    preview: BroadcastPreview | None = None,
    checked: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    language = scope.staff.language
    areas = sorted(((a.key, d.area_label(a.id, language)) for a in d.areas.values()),
                   key=lambda pair: pair[1])  # fmt: skip
    return render(
        request, "broadcast_new.html", scope, status_code=status_code,
        values=values, preview=preview, checked=checked, error=error,
        forums=_forums(scope, d), areas=areas if scope.is_admin else [],
        languages=[(code, Locale.parse(code).english_name) for code in d.languages],
        channels=CHANNELS, home_timezone=d.home_timezone,
    )  # fmt: skip
