"""SMS and WhatsApp through Twilio: one adapter, forked on the address scheme.

``tel:+254...`` goes out as SMS from ``TWILIO_SMS_FROM``, ``whatsapp:+254...`` as
WhatsApp from ``TWILIO_WHATSAPP_FROM``; both use the twilio library's REST client
(its async calls, on httpx), pointed at ``TWILIO_API_URL``. Choices become a numbered
text menu (SMS has no buttons, and numbered text works on every WhatsApp). Inbound
webhooks are parsed here from Twilio's form fields; their signatures are checked in
``bot.webhooks``.

Twilio's answers map onto the sender's errors: 429 is throttling (wait, do not
count an attempt), 5xx and network trouble are retried with backoff, 21610 means
the person unsubscribed (stop them), 63016 means a WhatsApp freeform message
outside the 24-hour window, any other 4xx is permanent.

WhatsApp takes freeform text only within 24 hours of the person's last message.
Outside it, a message goes as the deployment's approved template for its kind and
language, or is held (kept, reported, sent when they next write), never dropped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http import AsyncHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bot.limiter import Limiter, LocalLimiter
from bot.messages import InboundMessage, Location, MediaKind, OutboundMessage
from bot.models.base import utcnow
from bot.urns import URN, InvalidURN, parse
from channels.base import (
    DIRECT,
    Capabilities,
    Channel,
    ChannelTemplates,
    ConnectionFailed,
    ContactStopped,
    Envelope,
    Held,
    PermanentFailure,
    SendError,
    SendResult,
    Template,
    Throttled,
    read_button,
)
from channels.sms_segments import count_segments, transliterate

TWILIO_HOST = re.compile(r"^https://api(\.[a-z0-9-]+)*\.twilio\.com")
UNSUBSCRIBED = 21610
OUTSIDE_WINDOW = 63016
THROTTLE_SECONDS = 2.0  # Twilio's 429 carries no Retry-After
MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-f]{32}$")
MAX_BODY = 1600  # Twilio's own limit for one inbound message
SMS_MAX = 1600  # what one outbound SMS body may carry (Twilio concatenates up to 10 segments)
WINDOW = timedelta(hours=24)  # WhatsApp's customer-service window
WINDOW_MARGIN = timedelta(minutes=5)  # last_inbound_at is kept to the minute
BUTTON_TITLE = 20  # characters on a WhatsApp quick-reply button
TEMPLATE_VARIABLE = 1024  # characters in one content variable
# httpcore loads anyio's asyncio backend at its first request (some 20 ms): imported
# now, it is not paid between the first message's rate slot and its request. A private
# module, so a release of anyio that moves it costs only those 20 ms once.
with contextlib.suppress(ImportError):
    import anyio._backends._asyncio  # noqa: F401
# What Twilio cannot be reached through: refused, reset, timed out, an answer that
# cannot be decoded, a TWILIO_API_URL that is no address. Retried, and an outage when
# it lasts.
UNREACHABLE = (httpx.HTTPError, httpx.InvalidURL)
# Connections kept open: more than SMS and WhatsApp send at once (the sender's 8 each).
# An idle one is let go after 4 s, before the server's own idle timeout (5 s for
# uvicorn, as the fake Twilio runs; longer for most): a request on a connection the
# server has just closed fails, and its message waits out a retry's backoff.
CONNECTIONS = 24
KEEP_ALIVE_SECONDS = 4.0  # more than the sender sends at once: a send never waits for a connection


class OutsideWindow(Held):
    """WhatsApp refused a freeform message: the person wrote more than 24 hours ago.
    The message waits for them to write again, or goes as a template where one is
    configured; it is never dropped silently."""


class RootedHttpClient(AsyncHttpClient):
    """Twilio's REST calls made from the event loop, on httpx, to ``api_url`` instead of
    api.twilio.com (TWILIO_API_URL).

    Async rather than twilio's blocking client in threads: a send then leaves the moment
    its rate slot comes. Handed to a thread after its slot, it waited for that thread
    (and the interpreter's lock) a varying few milliseconds, and sends reached Twilio
    bunched, more than the limit in some second."""

    def __init__(self, api_url: str, timeout: float = 15.0) -> None:
        super().__init__(logging.getLogger("twilio.http_client"), True, timeout)
        self.api_url = api_url.rstrip("/")
        self._http = self._connections()

    async def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - twilio's signature
        allow_redirects: bool = False,
    ) -> Response:
        if self._http.is_closed:
            self._http = self._connections()
        # api.twilio.com, or api.<edge>.<region>.twilio.com when TWILIO_EDGE/REGION are set
        url = TWILIO_HOST.sub(self.api_url, uri, count=1)
        answer = await self._http.request(
            method.upper(),
            url,
            params=params,  # type: ignore[arg-type]
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout or self.timeout,
            follow_redirects=allow_redirects,
        )
        return Response(answer.status_code, answer.text, answer.headers)

    @staticmethod
    def _connections() -> httpx.AsyncClient:
        """The pool, made before the first send: making it loads the CA certificates,
        tens of milliseconds that would delay the first message behind its slot."""
        pool = httpx.Limits(
            max_connections=CONNECTIONS,
            max_keepalive_connections=CONNECTIONS,
            keepalive_expiry=KEEP_ALIVE_SECONDS,
        )
        return httpx.AsyncClient(limits=pool)

    async def close(self) -> None:
        await self._http.aclose()


def make_client(account_sid: str, auth_token: str, api_url: str) -> Client:
    return Client(account_sid, auth_token, http_client=RootedHttpClient(api_url))


async def close_client(client: Client) -> None:
    """Let go of the client's connections (it makes new ones if used again)."""
    http = client.http_client
    if isinstance(http, RootedHttpClient):
        await http.close()


# ------------------------------------------------------------------ inbound


class BadRequest(ValueError):
    """A field of Twilio's request is missing or malformed; the message names it."""


def _media_kind(content_type: str) -> MediaKind:
    major = content_type.split("/", 1)[0].lower()
    return {"image": "image", "audio": "audio", "video": "video"}.get(major, "document")  # type: ignore[return-value]


def parse_inbound(channel: str, form: Mapping[str, str]) -> InboundMessage:
    """One inbound SMS or WhatsApp message from Twilio's form fields, field by field."""
    sid = form.get("MessageSid", "")
    if not MESSAGE_SID.fullmatch(sid):
        raise BadRequest("MessageSid is missing or malformed")
    sender = form.get("From", "")
    expected = "whatsapp" if channel == "whatsapp" else "tel"
    raw = sender if channel == "whatsapp" else f"tel:{sender}"
    try:
        urn = parse(raw)
    except InvalidURN as exc:
        raise BadRequest(f"From is not a {expected} address") from exc
    if urn.scheme != expected:
        raise BadRequest(f"From is not a {expected} address")
    if not form.get("To"):
        raise BadRequest("To is missing")
    body = form.get("Body", "")
    if len(body) > MAX_BODY * 4:
        raise BadRequest("Body is too long")
    try:
        media_count = int(form.get("NumMedia", "0") or "0")
    except ValueError as exc:
        raise BadRequest("NumMedia is not a number") from exc
    if not 0 <= media_count <= 10:
        raise BadRequest("NumMedia is out of range")
    location = None
    if form.get("Latitude") or form.get("Longitude"):
        try:
            location = Location(float(form["Latitude"]), float(form["Longitude"]))
        except (KeyError, ValueError) as exc:
            raise BadRequest("Latitude/Longitude are not a place") from exc
    payload = form.get("ButtonPayload") or None
    if payload is not None and len(payload) > 256:
        raise BadRequest("ButtonPayload is too long")
    button = None
    if payload is not None:  # a quick-reply menu's "#2" reads as the typed number
        position, button = read_button(payload)
        body = position or body
    media = _media_kind(form.get("MediaContentType0", "")) if media_count else None
    return InboundMessage(
        channel=channel,
        urn=str(urn),
        provider_id=sid,
        text=body,
        button=button,
        location=location,
        media=None if location else media,
    )


STATUS_WORD = re.compile(r"[a-z_-]{1,20}")
ERROR_CODE = re.compile(r"\d{1,10}")


def parse_status(form: Mapping[str, str]) -> tuple[str, str, str | None]:
    """A delivery status callback's message id, status and error code, field by field."""
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
    if not MESSAGE_SID.fullmatch(sid):
        raise BadRequest("MessageSid is missing or malformed")
    if not STATUS_WORD.fullmatch(status):
        raise BadRequest("MessageStatus is missing or malformed")
    code = form.get("ErrorCode") or None
    if code is not None and not ERROR_CODE.fullmatch(code):
        raise BadRequest("ErrorCode is not a number")
    return sid, status, code


# ----------------------------------------------------------------- outbound


@dataclass(frozen=True)
class TwilioConfig:
    sender: str  # the From: "+1415..." for SMS, "whatsapp:+1415..." for WhatsApp
    messages_per_second: float
    status_callback: str | None = None
    gsm7_only: bool = False


class TwilioChannel(Channel):
    """One instance per channel name ("sms" or "whatsapp"), sharing a client."""

    def __init__(
        self, name: str, client: Client, config: TwilioConfig, limiter: Limiter | None = None
    ) -> None:
        self.name = name
        self.client = client
        self.config = config
        self.throttle_seconds = THROTTLE_SECONDS
        self.capabilities = Capabilities(buttons=False, max_text=SMS_MAX if name == "sms" else 4096)
        # Twilio's limit is per sending number, whichever process sends.
        self.limiter = limiter or LocalLimiter()
        self.limit_key = f"twilio:{config.sender}"
        # The library imports its Messages API on first use (some 30 ms): done now, not
        # between the first message's rate slot and its request, bunching it with the next.
        self.messages = client.messages

    def body(self, message: OutboundMessage) -> str:
        text = self.render(message)
        return transliterate(text) if self.name == "sms" and self.config.gsm7_only else text

    def _address(self, urn: URN) -> str:
        return f"whatsapp:{urn.path}" if urn.scheme == "whatsapp" else urn.path

    async def _send(self, urn: URN, fields: dict[str, Any]) -> str:
        """One message resource created at Twilio, at the sender's rate; its sid."""
        values: dict[str, Any] = {"to": self._address(urn), "from_": self.config.sender, **fields}
        if self.config.status_callback:
            values["status_callback"] = self.config.status_callback
        await self.limiter.acquire(self.limit_key, self.config.messages_per_second)
        try:
            created = await self.messages.create_async(**values)
        except TwilioRestException as exc:
            raise _error(exc.status, exc.code, exc.msg, self.throttle_seconds) from exc
        except TwilioServiceException as exc:  # the same refusal, in RFC 9457's words
            raise _error(
                exc.status, exc.code, exc.detail or exc.title, self.throttle_seconds
            ) from exc
        except TwilioException as exc:
            raise ConnectionFailed(str(exc)) from exc
        except UNREACHABLE as exc:
            raise ConnectionFailed(f"{type(exc).__name__}: {exc}") from exc
        return str(created.sid)

    async def deliver(
        self, urn: URN, message: OutboundMessage, envelope: Envelope = DIRECT
    ) -> SendResult:
        if urn.scheme != "whatsapp":
            body = self.body(message)
            sid = await self._send(urn, {"body": body})
            return SendResult(provider_message_id=sid, segments=count_segments(body).count)
        template = envelope.templates.for_kind(envelope.kind, message.language)
        if window_open(envelope) is False:
            if template is None:
                raise OutsideWindow(
                    f"WhatsApp window closed and no template for {envelope.kind!r} "
                    f"in {message.language!r}"
                )
            return SendResult(await self._send(urn, _as_template(template, message)))
        try:
            return SendResult(await self._send(urn, self._freeform(message, envelope.templates)))
        except OutsideWindow:  # Twilio knew better than our clock: 63016
            if template is None:
                raise
            return SendResult(await self._send(urn, _as_template(template, message)))

    def _freeform(self, message: OutboundMessage, templates: ChannelTemplates) -> dict[str, Any]:
        """Text, or a quick-reply menu where the deployment has one for this many choices
        and every label fits on a WhatsApp button."""
        menu = templates.menus.get(len(message.choices)) if message.choices else None
        if menu and all(len(c.label) <= BUTTON_TITLE for c in message.choices):
            labels = {str(n): c.label for n, c in enumerate(message.choices, 2)}
            return {
                "content_sid": menu,
                "content_variables": json.dumps({"1": message.text, **labels}, ensure_ascii=False),
            }
        return {"body": self.body(message)}


def window_open(envelope: Envelope, now: datetime | None = None) -> bool | None:
    """Whether WhatsApp takes a freeform message now; None when nobody knows (a staff
    or group address we never hear from)."""
    if not envelope.tracked:
        return None
    if envelope.last_inbound_at is None:
        return False
    return (now or utcnow()) - envelope.last_inbound_at < WINDOW - WINDOW_MARGIN


def _as_template(template: Template, message: OutboundMessage) -> dict[str, Any]:
    variables = {k: v[:TEMPLATE_VARIABLE] for k, v in template.values(message).items()}
    return {
        "content_sid": template.content_sid,
        "content_variables": json.dumps(variables, ensure_ascii=False),
    }


def _error(status: int, code: int | None, why: str, throttle_seconds: float) -> SendError:
    detail = f"Twilio {status} {code or ''}: {why}".strip()
    if code == UNSUBSCRIBED:
        return ContactStopped(detail)
    if code == OUTSIDE_WINDOW:
        return OutsideWindow(detail)
    if status == 429:
        return Throttled(throttle_seconds, detail)
    if status >= 500:
        return ConnectionFailed(detail)
    return PermanentFailure(detail)
