"""The campaign pages (admins): campaigns and topics, the form to create one (its series
grows a message at a time, without a script), and one campaign with its reach, its
slots, send-now and pause or resume.

Everything goes through ``admin.outbound.campaigns``, as the API does.
"""

from __future__ import annotations

from typing import Any

from babel import Locale
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from admin.deps import ClientDep, PageScope, RowId, ServicesDep, SessionDep
from admin.outbound import campaigns as desk
from admin.outbound.page_kit import back, failed, is_refusal, optional, parse, refused, show, texts
from admin.outbound.schemas import CampaignWrite
from admin.pages import render
from admin.scope import Scope
from bot.directory import Directory

router = APIRouter(prefix="/admin/campaigns", include_in_schema=False)
FIRST_PARTS = 3  # message blocks on a new form; "Add a message" adds one
MAX_PARTS = 52  # a year of weekly messages


@router.get("", response_class=HTMLResponse)
async def campaigns_page(
    request: Request, db: SessionDep, scope: PageScope, services: ServicesDep
) -> Response:
    async def found() -> dict[str, Any]:
        campaigns = await desk.listing(db, services, scope)
        return {"campaigns": campaigns, "topics": await desk.topics(db, scope)}

    return await show(request, scope, "campaigns.html", found())


@router.get("/new", response_class=HTMLResponse)
async def new_form(
    request: Request, db: SessionDep, scope: PageScope, services: ServicesDep
) -> Response:
    if not scope.is_admin:
        return refused(request, scope, HTTPException(403))
    d = await services.runtime.directories.get(db)
    values = {"parts": [{}] * FIRST_PARTS, "fallback_language": d.default_language,
              "weekday": 0, "time": "10:00"}  # fmt: skip
    return await _form(request, db, scope, d, values)


@router.post("/new", response_class=HTMLResponse)
async def create(
    request: Request,
    db: SessionDep,
    scope: PageScope,
    services: ServicesDep,
    client: ClientDep,
) -> Response:
    """Create the campaign, or (the "Add a message" button) show one more message block."""
    form = await request.form()
    d = await services.runtime.directories.get(db)
    values = _values(form, d)
    if form.get("step") == "more":
        values["parts"] = [*values["parts"], {}][:MAX_PARTS]
        return await _form(request, db, scope, d, values)
    written = [part for part in values["parts"] if part]
    try:
        body = parse(CampaignWrite, {**values, "parts": written})
        created = await desk.create(db, services, scope, body, client)
    except HTTPException as exc:
        if is_refusal(exc):
            return refused(request, scope, exc)
        error = str(exc.detail)
        return await _form(request, db, scope, d, values, error=error, status=exc.status_code)
    return back(f"/admin/campaigns/{created.id}", done="Created: it goes out weekly.")


@router.get("/{campaign_id}", response_class=HTMLResponse)
async def campaign_page(
    campaign_id: RowId,
    request: Request,
    db: SessionDep,
    scope: PageScope,
    services: ServicesDep,
    done: str = "",
    error: str = "",
) -> Response:
    async def found() -> dict[str, Any]:
        return {"c": await desk.detail(db, services, scope, campaign_id)}

    return await show(request, scope, "campaign.html", found(), done=done, error=error)


@router.post("/{campaign_id}/{action}")
async def act(
    campaign_id: RowId,
    action: str,
    request: Request,
    db: SessionDep,
    scope: PageScope,
    services: ServicesDep,
    client: ClientDep,
) -> Response:
    """send-now, pause or resume, then back to the campaign's page."""
    page = f"/admin/campaigns/{campaign_id}"
    try:
        if action == "send-now":
            sent = await desk.send_now(db, services, scope, campaign_id, client)
            done = f"Each subscriber's next message goes now ({sent.slots} time zones)."
        elif action in ("pause", "resume"):
            await desk.set_active(db, services, scope, campaign_id, action == "resume", client)
            done = "Paused." if action == "pause" else "Resumed: it goes out weekly again."
        else:
            return refused(request, scope, HTTPException(404))
    except HTTPException as exc:
        return failed(request, scope, exc, page)
    return back(page, done=done)


def _values(form: FormData, d: Directory) -> dict[str, Any]:
    raw = str(form.get("count") or "")
    count = min(int(raw), MAX_PARTS) if raw.isdigit() else FIRST_PARTS
    weekday = str(form.get("weekday") or "0")
    return {
        "topic": optional(form, "topic"),
        "name": str(form.get("name") or "").strip(),
        "weekday": int(weekday) if weekday.isdigit() else weekday,
        "time": str(form.get("time") or "")[:5],
        "fallback_language": str(form.get("fallback_language") or d.default_language),
        "parts": [texts(form, f"part_{n}_", d.languages) for n in range(count)],
    }


async def _form(
    request: Request,
    db: SessionDep,
    scope: Scope,
    d: Directory,
    values: dict[str, Any],
    *,
    error: str = "",
    status: int = 200,
) -> Response:
    topics = [t for t in await desk.topics(db, scope) if t.active]
    language = scope.staff.language
    return render(
        request, "campaign_new.html", scope, status_code=status,
        values=values, error=error,
        topics=[(t.key, d.localized(t.names, language), t.subscribers) for t in topics],
        languages=[(code, Locale.parse(code).english_name) for code in d.languages],
    )  # fmt: skip
