"""Dependency aliases for the staff API and pages: the session, the services, the user.

A request is authenticated by a bearer token (API clients) or by the session
cookie of the web pages; a cookie-authenticated request that changes anything
must also carry the session's CSRF token, so another site cannot act for staff.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from admin.scope import Scope, load_scope
from admin.security import resolve_token
from bot.services import Services

COOKIE = "baraza_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

# Numbers a client sends that reach the database: a row id, a page. Bounded here, at the
# edge, so that a huge one is a 422 and not an overflow inside the database driver.
MAX_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]


async def get_db(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    """A session per request; routes that change anything commit it themselves."""
    async with services.sessions() as db:
        yield db


SessionDep = Annotated[AsyncSession, Depends(get_db)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


ClientDep = Annotated[str | None, Depends(client_address)]


async def _csrf_from(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf")
        return value if isinstance(value, str) else None
    return None


async def get_scope(
    request: Request, db: SessionDep, token: Annotated[str | None, Depends(bearer)]
) -> Scope:
    """The signed-in staff member and what they may see; 401 without a live session."""
    found = await resolve_token(db, token, "api") if token else None
    if found is None and (cookie := request.cookies.get(COOKIE)):
        found = await resolve_token(db, cookie, "web")
        if found is not None and request.method not in SAFE_METHODS:
            sent = await _csrf_from(request)
            if not sent or not secrets.compare_digest(sent, found[1].csrf or ""):
                raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    if found is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "sign in first",
            headers={"WWW-Authenticate": "Bearer"},
        )
    scope = await load_scope(db, found[0])
    request.state.csrf = found[1].csrf
    return scope


ScopeDep = Annotated[Scope, Depends(get_scope)]


async def get_page_scope(
    request: Request, db: SessionDep, token: Annotated[str | None, Depends(bearer)]
) -> Scope:
    """The same sign-in and CSRF check as the API, for the pages: without a session, a
    redirect to the sign-in form that comes back here afterwards."""
    try:
        return await get_scope(request, db, token)
    except HTTPException as exc:
        if exc.status_code != status.HTTP_401_UNAUTHORIZED:
            raise
        login = f"/admin/login?next={quote(request.url.path)}"
        raise HTTPException(
            status.HTTP_303_SEE_OTHER, "sign in first", headers={"Location": login}
        ) from None


PageScope = Annotated[Scope, Depends(get_page_scope)]


def _requires(allowed: frozenset[str], what: str) -> object:
    async def check(scope: ScopeDep) -> Scope:
        if scope.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"your role cannot {what}")
        return scope

    return check


CaseWorker = Annotated[
    Scope,
    Depends(
        _requires(
            frozenset({"admin", "forum_chair", "focal_point", "protection_officer"}), "work cases"
        )
    ),
]
Admin = Annotated[Scope, Depends(_requires(frozenset({"admin"}), "do this (admins only)"))]
