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
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from twilio.request_validator import RequestValidator

from bot.delivery import record_status
from bot.services import Services
from channels.telegram import NotAnUpdate, answer_callback, decode_update
from channels.twilio import BadRequest, parse_inbound

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # a Telegram update or a Twilio form is a few kilobytes
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UNAVAILABLE = (OperationalError, DBAPIError, PoolTimeout, ConnectionError, TimeoutError)


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
    except (ValueError, RecursionError, NotAnUpdate) as exc:  # JSONDecodeError: ValueError
        return _problem(400, f"not a Telegram update: {exc}"[:200])
    try:
        parsed = await services.telegram_updates.handle(update)
    except NotAnUpdate as exc:
        return _problem(400, f"not a Telegram update: {exc}"[:200])
    except UNAVAILABLE:
        log.exception("update %s not handled: database unavailable", update.update_id)
        return _problem(503, "temporarily unavailable")
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
    try:
        body = await read_body(request)
    except BodyTooLarge:
        return _problem(413, "request too large")
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
    except UNAVAILABLE:
        log.exception("Twilio message not handled: database unavailable")
        return _problem(503, "temporarily unavailable")
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
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
    if not sid or not status:
        return _problem(400, "MessageSid and MessageStatus are required")
    try:
        async with services.sessions() as db, db.begin():
            await record_status(db, sid, status, form.get("ErrorCode") or None)
    except UNAVAILABLE:
        return _problem(503, "temporarily unavailable")
    return Response(status_code=204)
