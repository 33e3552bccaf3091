"""The staff web pages under ``/admin``: server-rendered, one form per action.

They call the same scope, casebook and casework code as the API, so a page cannot
show what the API would refuse. Sessions are an HttpOnly, SameSite=Strict cookie;
every form carries the session's CSRF token and is refused without it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from admin import charts
from admin.audit import audit
from admin.casebook import CaseFilters, assignable, find_case, list_cases, read_case
from admin.deps import COOKIE, ClientDep, PageScope, ServicesDep, SessionDep
from admin.scope import Scope
from admin.security import SignInThrottled, authenticate, issue_token, revoke_token
from admin.simulator import LOOKS
from admin.trends import trends
from bot.cases import STATUSES
from bot.casework import CaseworkRefused, add_note, assign, change_status, reply_to_reporter
from bot.models import AuditEntry, Case
from flows.answers import format_reference

router = APIRouter(prefix="/admin", include_in_schema=False)
PER_PAGE = 25
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals.update(charts=charts, statuses=STATUSES)


def render(
    request: Request,
    name: str,
    scope: Scope | None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """A page in the staff frame, with the person, their scope and the form token (every
    page module renders through here)."""
    csrf = getattr(request.state, "csrf", "") if scope else ""  # set by the sign-in check
    context = {"me": scope.staff if scope else None, "scope": scope, "csrf": csrf, **values}
    return templates.TemplateResponse(request, name, context, status_code=status_code)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/admin/cases", error: str = "") -> Response:
    return render(request, "login.html", None, next=next, error=error)


@router.post("/login")
async def login(
    request: Request,
    db: SessionDep,
    client: ClientDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/admin/cases",
) -> Response:
    try:
        user = await authenticate(db, email, password, client)
    except SignInThrottled:
        user, error = None, "Too many failed sign-ins. Wait 15 minutes."
    else:
        error = "Wrong email or password."
    if user is None:
        await db.commit()
        return render(request, "login.html", None, next=next, error=error, status_code=401)
    token, _ = await issue_token(db, user, "web")
    await db.commit()
    target = next if next.startswith("/admin/") else "/admin/cases"
    response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="strict", path="/",
        secure=request.url.scheme == "https", max_age=8 * 3600,
    )  # fmt: skip
    return response


@router.post("/logout")
async def logout(request: Request, db: SessionDep, scope: PageScope) -> Response:
    """Sign out (the form's CSRF token is checked by ``PageScope``)."""
    await revoke_token(db, request.cookies[COOKIE])
    await db.commit()
    response = RedirectResponse("/admin/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("", include_in_schema=False)
async def home() -> Response:
    return RedirectResponse("/admin/cases", status.HTTP_303_SEE_OTHER)


def _day(value: str | None, *, after: bool = False) -> datetime | None:
    """A date field (YYYY-MM-DD) as the start of that day in UTC, or of the next one
    for an inclusive "until"; anything else is no filter."""
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=int(after)), time(), UTC)


@router.get("/cases", response_class=HTMLResponse)
async def inbox(
    request: Request,
    db: SessionDep,
    scope: PageScope,
    services: ServicesDep,
    page: int = 1,
) -> Response:
    if not scope.works_cases:
        return RedirectResponse("/admin/dashboard", status.HTTP_303_SEE_OTHER)
    directory = await services.runtime.directories.get(db)
    params = request.query_params
    filters = CaseFilters(
        status=params.get("status") or None,
        forum=params.get("forum") or None,
        unit=params.get("unit") or None,
        category=params.get("category") or None,
        area=params.get("area") or None,
        since=_day(params.get("since")),
        until=_day(params.get("until"), after=True),
    )
    page = max(page, 1)
    cases, total = await list_cases(db, scope, directory, filters, page=page, per_page=PER_PAGE)
    kept = {k: v for k, v in params.items() if k != "page" and v}
    links = {
        "newer": f"?{urlencode({**kept, 'page': page - 1})}" if page > 1 else None,
        "older": f"?{urlencode({**kept, 'page': page + 1})}" if page * PER_PAGE < total else None,
    }
    forums = [f for f in directory.forums.values() if scope.serves_forum(f.id)]
    units = [u for u in directory.units.values() if u.id in scope.unit_ids]
    return render(
        request, "inbox.html", scope, cases=cases, total=total, page=page, links=links,
        filters=filters, values=params, directory=directory, forums=forums, units=units,
        language=scope.staff.language,
    )  # fmt: skip


@router.get("/cases/{reference}", response_class=HTMLResponse)
async def case_page(
    reference: str, request: Request, db: SessionDep, scope: PageScope,
    services: ServicesDep, client: ClientDep, error: str = "", done: str = "",
) -> Response:  # fmt: skip
    case = await find_case(db, scope, reference) if scope.works_cases else None
    if case is None:
        return render(request, "missing.html", scope, status_code=404)
    directory = await services.runtime.directories.get(db)
    detail = await read_case(db, scope, directory, case, client)
    people = await assignable(db, case)
    await db.commit()
    return render(request, "case.html", scope, case=detail, error=error, done=done,
                  people=people, assigned_id=case.assigned_to_id)  # fmt: skip


@router.post("/cases/{reference}")
async def work_case(
    reference: str,
    request: Request,
    db: SessionDep,
    scope: PageScope,
    services: ServicesDep,
    client: ClientDep,
    action: Annotated[str, Form()],
    text: Annotated[str, Form()] = "",
    status_: Annotated[str, Form(alias="status")] = "",
    assignee: Annotated[str, Form()] = "",
) -> Response:
    """One form per action on the case page: reply, note, status, assignment (CSRF
    checked by ``PageScope``)."""
    case = await find_case(db, scope, reference) if scope.works_cases else None
    if case is None:
        return render(request, "missing.html", scope, status_code=404)
    directory = await services.runtime.directories.get(db)
    target: str | None = None  # whom an assignment names, for the audit log
    try:
        if action == "reply":
            await reply_to_reporter(db, services.runtime, directory, case=case,
                                    staff=scope.staff, text=text)  # fmt: skip
            done = "Sent to the reporter."
        elif action == "note":
            await add_note(db, case=case, staff=scope.staff, text=text)
            done = "Note added."
        elif action == "assign":
            person = None
            if assignee:
                people = await assignable(db, case)
                person = next((p for p in people if str(p.id) == assignee), None)
                if person is None:
                    raise CaseworkRefused("that person cannot work this case")
            await assign(db, case=case, staff=scope.staff, assignee=person)
            done = f"Assigned to {person.name}." if person else "Unassigned."
            target = person.email if person else None
        elif action == "status":
            await change_status(db, services.runtime, directory, case=case, staff=scope.staff,
                                status=status_, reason=text)  # fmt: skip
            done = f"Status changed to {status_}."
        else:
            raise CaseworkRefused("unknown action")
    except CaseworkRefused as exc:
        await db.rollback()
        return RedirectResponse(
            f"/admin/cases/{reference}?error={quote(str(exc))}", status.HTTP_303_SEE_OTHER
        )
    await audit(db, f"case_{action}", staff=scope.staff, case_id=case.id, client=client,
                target=target)  # fmt: skip
    await db.commit()
    services.wake_sender()
    return RedirectResponse(
        f"/admin/cases/{reference}?done={quote(done)}", status.HTTP_303_SEE_OTHER
    )


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request,
    db: SessionDep,
    scope: PageScope,
    services: ServicesDep,
    forum: str | None = None,
) -> Response:
    directory = await services.runtime.directories.get(db)
    result = await trends(db, scope, directory, forum or None)
    forums = [
        (f.key, directory.localized(f.names, scope.staff.language))
        for f in directory.forums.values()
        if scope.forum_filter() is None or f.id in scope.forum_ids
    ]
    return render(request, "dashboard.html", scope, t=result, forums=forums, forum=forum)


@router.get("/simulator", response_class=HTMLResponse)
async def simulator(request: Request, scope: PageScope) -> Response:
    return render(request, "simulator.html", scope, channels=list(LOOKS))


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request, db: SessionDep, scope: PageScope) -> Response:
    if not scope.is_admin:
        return render(request, "missing.html", scope, status_code=403)
    rows = await db.execute(
        select(AuditEntry, Case.reference)
        .outerjoin(Case, Case.id == AuditEntry.case_id)
        .order_by(AuditEntry.id.desc())
        .limit(200)
    )
    entries = [(entry, format_reference(code) if code else "") for entry, code in rows.all()]
    return render(request, "audit.html", scope, entries=entries)
