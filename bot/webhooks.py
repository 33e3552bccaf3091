"""The providers' webhooks: authenticate, parse, commit, acknowledge.

A request is acknowledged (2xx) only after its effects are committed; when the
database cannot take them the answer is 503, and the provider retries. Anything
that fails authentication gets 403 before a byte of it is parsed or stored.
"""

from __future__ import annotations

import hmac
import json
import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.services import Services
from channels.telegram import NotAnUpdate, answer_callback, decode_update

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # a Telegram update is a few kilobytes
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UNAVAILABLE = (OperationalError, DBAPIError, ConnectionError, TimeoutError)


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, refusing early (by its declared length) or as soon as it grows too big."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post("/telegram", summary="Telegram Bot API updates")
async def telegram_webhook(request: Request) -> Response:
    services: Services = request.app.state.services
    secret = services.settings.telegram_webhook_secret
    given = request.headers.get(TELEGRAM_SECRET_HEADER, "")
    if (
        services.telegram_bot is None
        or services.telegram_updates is None
        or not secret
        or not hmac.compare_digest(given.encode(), secret.encode())
    ):
        return _problem(403, "forbidden")
    try:
        data = json.loads(await read_body(request))
        update = decode_update(data, services.telegram_bot)
    except BodyTooLarge:
        return _problem(413, "update too large")
    except (ValueError, NotAnUpdate) as exc:  # JSONDecodeError is a ValueError
        return _problem(400, f"not a Telegram update: {exc}"[:200])
    try:
        parsed = await services.telegram_updates.handle(update)
    except UNAVAILABLE:
        log.exception("update %s not handled: database unavailable", update.update_id)
        return _problem(503, "temporarily unavailable")
    if parsed.callback_query_id:  # answered in the reply itself: the button stops spinning
        return JSONResponse(answer_callback(parsed.callback_query_id))
    return Response(status_code=200)
