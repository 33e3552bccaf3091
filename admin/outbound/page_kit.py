"""What the broadcasts, meetings and campaigns pages share: how a refusal looks, how a
page shows what a desk found (or refuses), how a form comes back with its outcome, and
how a form's fields become an API body.

The pages call the same desks as the API, whose refusals are ``HTTPException``s: a
403 or 404 shows the not-found page with that status (as the case pages do), and
anything else (409, 422) goes back to the form as a message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from admin.pages import render, templates
from admin.scope import Scope
from bot.validation import describe_invalid

Body = TypeVar("Body", bound=BaseModel)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def duration(seconds: float) -> str:
    """An estimate in words: "under a minute", "about 4 minutes", "about 2.5 hours"."""
    if seconds < 60:
        return "under a minute"
    if seconds < 3600:
        return f"about {round(seconds / 60)} minutes"
    return f"about {seconds / 3600:.1f} hours"


templates.env.filters["duration"] = duration
templates.env.globals["weekdays"] = WEEKDAYS


def refused(request: Request, scope: Scope, exc: HTTPException) -> Response:
    """The not-found page for a 403 or 404 (nothing here you can open)."""
    return render(request, "missing.html", scope, status_code=exc.status_code)


async def show(
    request: Request,
    scope: Scope,
    template: str,
    found: Awaitable[Mapping[str, Any]],
    **context: Any,
) -> Response:
    """``template`` with what ``found`` read through a desk (and ``context``), or the
    not-found page with the desk's status when it refused (another forum's broadcast,
    a role that may not open the list): the lists and the one-item pages say "nothing
    here you can open" the same way."""
    try:
        values = await found
    except HTTPException as exc:
        return refused(request, scope, exc)
    return render(request, template, scope, **values, **context)


def is_refusal(exc: HTTPException) -> bool:
    return exc.status_code in (status.HTTP_403_FORBIDDEN, status.HTTP_404_NOT_FOUND)


def failed(request: Request, scope: Scope, exc: HTTPException, page: str) -> Response:
    """A change that could not be made: the not-found page for a 403 or 404, else back
    to ``page`` saying why."""
    if is_refusal(exc):
        return refused(request, scope, exc)
    return back(page, error=str(exc.detail))


def back(url: str, *, done: str = "", error: str = "") -> Response:
    """Back to a page after a form, with what happened (post, redirect, get)."""
    query = urlencode({k: v for k, v in (("done", done), ("error", error)) if v})
    return RedirectResponse(f"{url}?{query}" if query else url, status.HTTP_303_SEE_OTHER)


def parse(model: type[Body], values: dict[str, Any]) -> Body:
    """A form's values as an API body; what does not fit is a 422 in plain words."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        said = describe_invalid(exc, whole="form")
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, said) from None


def texts(form: FormData, prefix: str, languages: tuple[str, ...]) -> dict[str, str]:
    """The non-empty ``<prefix><language>`` fields: one text per language."""
    found = {lang: str(form.get(f"{prefix}{lang}") or "").strip() for lang in languages}
    return {lang: text for lang, text in found.items() if text}


def optional(form: FormData, name: str) -> str | None:
    value = str(form.get(name) or "").strip()
    return value or None
