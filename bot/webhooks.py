"""The providers' webhooks: authenticate, parse, commit, acknowledge.

A request is acknowledged (2xx) only after its effects are committed; when the
database cannot take them the answer is 503, and the provider retries. Anything
that fails authentication gets 403 before anything in it is used or stored.
"""

from __future__ import annotations

import hmac
import json
import logging
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from twilio.request_validator import RequestValidator

from bot.db import database_unavailable
from bot.delivery import record_status
from bot.logs import LogThrottle
from bot.metrics import SEND_FAILURES
from bot.services import Services
from channels.telegram import NotAnUpdate, answer_callback, decode_update
from channels.twilio import BadRequest, parse_inbound, parse_status

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
RETRY_AFTER_SECONDS = 30
_quiet = LogThrottle(60.0)  # the database away fails every request: one line a minute


def unavailable(exc: BaseException) -> JSONResponse:
    """503 with Retry-After: the provider keeps the message and sends it again later."""
    _quiet.error(log, "database", "database unavailable, answering 503: %s", type(exc).__name__)
    return JSONResponse(
        {"detail": "temporarily unavailable, try again later"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


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
        data = json.loads(await request.body())  # capped by bot.bodylimit: 413 beyond
        update = decode_update(data, services.telegram_bot)
    except (ValueError, RecursionError, NotAnUpdate) as exc:  # JSONDecodeError: ValueError
        return _problem(400, f"not a Telegram update: {exc}"[:200])
    try:
        parsed = await services.telegram_updates.handle(update)
    except NotAnUpdate as exc:
        return _problem(400, f"not a Telegram update: {exc}"[:200])
    except Exception as exc:
        if database_unavailable(exc):
            return unavailable(exc)
        raise
    if parsed.callback_query_id:  # answered in the reply itself: the button stops spinning
        return JSONResponse(answer_callback(parsed.callback_query_id))
    return Response(status_code=200)


def signed_url(request: Request, services: Services) -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL (or, when trusted, the proxy's forwarded
    scheme and host) plus the path and query as they arrived."""
    settings = services.settings
    if settings.public_base_url:
        base = settings.public_base_url
    else:
        scheme, host = request.url.scheme, request.headers.get("host", request.url.netloc)
        if settings.trust_forwarded:
            scheme = request.headers.get("x-forwarded-proto", scheme).split(",")[0].strip()
            host = request.headers.get("x-forwarded-host", host).split(",")[0].strip()
        base = f"{scheme}://{host}"
    query = request.url.query
    return f"{base}{request.url.path}{'?' + query if query else ''}"


async def _signed_form(request: Request, services: Services) -> dict[str, str] | Response:
    """The form fields of a request that Twilio signed, or the response refusing it."""
    token = services.settings.twilio_auth_token
    signature = request.headers.get("x-twilio-signature", "")
    body = await request.body()  # capped by bot.bodylimit: 413 beyond
    try:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        form = None
    # The signature is checked before anything else is looked at, and fails closed.
    if (
        not token
        or not signature
        or form is None
        or not RequestValidator(token).validate(signed_url(request, services), form, signature)
    ):
        return _problem(403, "forbidden")
    return form


def _twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml")


async def _twilio_message(request: Request, channel: str) -> Response:
    services: Services = request.app.state.services
    form = await _signed_form(request, services)
    if isinstance(form, Response):
        return form
    try:
        message = parse_inbound(channel, form)
    except BadRequest as exc:
        return _problem(400, str(exc))
    try:
        await services.receive(message)
    except Exception as exc:
        if database_unavailable(exc):
            return unavailable(exc)
        raise
    return _twiml()


@router.post("/twilio/sms", summary="Twilio: an inbound SMS")
async def twilio_sms(request: Request) -> Response:
    return await _twilio_message(request, "sms")


@router.post("/twilio/whatsapp", summary="Twilio: an inbound WhatsApp message")
async def twilio_whatsapp(request: Request) -> Response:
    return await _twilio_message(request, "whatsapp")


@router.post("/twilio/status", summary="Twilio: delivery status of a message we sent")
async def twilio_status(request: Request) -> Response:
    services: Services = request.app.state.services
    form = await _signed_form(request, services)
    if isinstance(form, Response):
        return form
    try:
        sid, status, code = parse_status(form)
    except BadRequest as exc:
        return _problem(400, str(exc))
    try:
        async with services.sessions() as db, db.begin():
            await record_status(db, sid, status, code)
    except Exception as exc:
        if database_unavailable(exc):
            return unavailable(exc)
        raise
    if code and status in ("failed", "undelivered"):
        SEND_FAILURES.labels("twilio", code[:10]).inc()
    return Response(status_code=204)
