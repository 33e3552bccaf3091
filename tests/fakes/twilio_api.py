"""A faithful fake of the Twilio REST API (the Messages resource), served over
real HTTP on 127.0.0.1.

Point the real ``twilio.rest.Client`` at it through an HTTP client that rewrites
``https://api.twilio.com`` (the library hard-codes that root in
``twilio.rest.api.ApiBase``; there is no base-URL option)::

    with FakeTwilio() as fake:
        client = client_for(fake)            # a real twilio.rest.Client
        client.messages.create(to="+254722000111", from_="+254711000000", body="Hi")
        assert fake.bodies("+254722000111") == ["Hi"]

Served, with the real API's shapes (JSON bodies, status codes, error bodies):

* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (form-encoded) → 201
  and a Message resource;
* ``GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json`` → 200 / 404;
* ``GET  /2010-04-01/Accounts/{AccountSid}/Messages.json`` → a page (``To``,
  ``From``, ``PageSize``, ``Page``), newest first, as ``client.messages.list()``
  reads it;
* ``GET  /2010-04-01/Accounts/{AccountSid}.json`` → the Account resource (its
  ``status`` is :attr:`FakeTwilio.account_status`), as ``baraza doctor`` fetches it.

Every request is checked for HTTP basic auth (account SID + auth token) first.
Errors use Twilio's legacy error body ``{"code", "message", "more_info",
"status"}``, so the library raises ``TwilioRestException`` with ``.status`` and
``.code`` for real.  An error injected without a code has no ``"code"`` key; the
library then reports the HTTP status as ``.code``, just as it does for the HTML
bodies of a real gateway failure.

The server runs its own event loop in a daemon thread, so it works from
synchronous tests, from pytest-asyncio tests, and while the bot under test runs
its own loop.  All state is guarded by one lock; every public method is safe to
call from any thread.

Addresses: a number without a channel prefix (``"+254722000111"``) given to
:meth:`FakeTwilio.to`, :meth:`~FakeTwilio.bodies`, :meth:`~FakeTwilio.unsubscribe`
or ``fail_next(to=...)`` matches every channel (SMS and ``whatsapp:``); a
prefixed address (``"whatsapp:+258841234567"``) matches only that channel.

Deliberate simplifications:

* Messages never progress by themselves (they stay ``queued``/``accepted``);
  use :meth:`FakeTwilio.set_status`, which also returns the status-callback
  parameters Twilio would post.  The fake never calls webhooks itself.
* Only the checks listed in ``_create`` are made; prices stay ``null``.
* WhatsApp messages report ``num_segments`` ``"1"`` (as Twilio does); messages
  via a Messaging Service without ``From`` answer ``accepted`` with
  ``num_segments`` ``"0"`` and ``from`` ``null`` (as Twilio does).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import copy
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.fakes.server import LocalServer

__all__ = [
    "API_VERSION",
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "ERROR_MESSAGES",
    "FIXTURES_DIR",
    "TWILIO_API_ROOT",
    "ApiCall",
    "AsyncRedirectingHttpClient",
    "FakeTwilio",
    "RedirectingHttpClient",
    "Sent",
    "TwilioApiError",
    "async_client_for",
    "client_for",
    "encoding",
    "fixture_names",
    "inbound_sms",
    "inbound_whatsapp",
    "load_params",
    "segments",
    "signed",
]

DEFAULT_ACCOUNT_SID = "AC2353ab0c6efca0f9ec41ac421a6ebb8f"
DEFAULT_AUTH_TOKEN = "1054f9889dcb9d8a3f018fcbe8eebf60"
API_VERSION = "2010-04-01"
TWILIO_API_ROOT = "https://api.twilio.com"
FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "twilio"

JSONDict = dict[str, Any]
Params = dict[str, Any]  # form fields: str, or list[str] for a repeated field

# -- errors -----------------------------------------------------------------------

AUTHENTICATE = 20003
NOT_FOUND = 20404
TOO_MANY_REQUESTS = 20429
BODY_REQUIRED = 21602
FROM_REQUIRED = 21603
TO_REQUIRED = 21604
INVALID_TO = 21211
UNSUBSCRIBED = 21610
BODY_TOO_LONG = 21617
CONTENT_VARIABLES_INVALID = 21656
CHANNEL_MISMATCH = 21910
OUTSIDE_WINDOW = 63016

#: Twilio's wording for the codes the fake answers (``{}`` is filled in).
ERROR_MESSAGES: dict[int, str] = {
    AUTHENTICATE: "Authenticate",
    NOT_FOUND: "The requested resource {} was not found",
    TOO_MANY_REQUESTS: "Too Many Requests",
    BODY_REQUIRED: "Message body is required.",
    FROM_REQUIRED: "A 'From' phone number is required.",
    TO_REQUIRED: "A 'To' phone number is required.",
    INVALID_TO: "Invalid 'To' Phone Number: {}",
    UNSUBSCRIBED: "Attempt to send to unsubscribed recipient",
    BODY_TOO_LONG: "The concatenated message body exceeds the 1600 character limit.",
    CONTENT_VARIABLES_INVALID: "The Content Variables parameter is invalid.",
    CHANNEL_MISMATCH: "Invalid From and To pair. From and To should be of the same channel",
    OUTSIDE_WINDOW: "Failed to send freeform message because you are outside the allowed "
    "window. If you are using WhatsApp, please use a Message Template.",
    20500: "An internal server error has occurred",
    30003: "Unreachable destination handset",
}
_STATUS_CODES = {401: AUTHENTICATE, 404: NOT_FOUND, 429: TOO_MANY_REQUESTS}


class TwilioApiError(Exception):
    """An error answer: ``{"code", "message", "more_info", "status"}``.

    With ``code=None`` the ``"code"`` key (and the code in ``more_info``) is left
    out; 401, 404 and 429 default to 20003, 20404 and 20429.
    """

    def __init__(
        self,
        status: int,
        code: int | None = None,
        message: str | None = None,
        *,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code if code is not None else _STATUS_CODES.get(status)
        if message is None:
            message = ERROR_MESSAGES.get(self.code or 0) or _phrase(status)
        self.message = message
        self.detail = detail
        self.headers = headers or {}
        super().__init__(f"{status} {self.code} {message}")

    def body(self) -> JSONDict:
        body: JSONDict = {}
        if self.code is not None:
            body["code"] = self.code
        if self.detail is not None:
            body["detail"] = self.detail
        body["message"] = self.message
        suffix = f"/{self.code}" if self.code is not None else ""
        body["more_info"] = f"https://www.twilio.com/docs/errors{suffix}"
        body["status"] = self.status
        return body


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# -- segments -----------------------------------------------------------------------

# GSM 03.38 default alphabet (3GPP TS 23.038 §6.2.1), in table order.  Note the
# accented letters it has: é è ù ì ò à Ç É Ä Ö Ñ Ü ä ö ñ ü Å å Ø ø Æ æ ß — and
# what it lacks: á í ó ú ê â ç õ ã ...  ("Olá" is UCS-2; "Olà" is GSM-7).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs two septets (ESC + char).
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


def encoding(text: str) -> Literal["GSM-7", "UCS-2"]:
    """The encoding an SMS with this body goes out in (no smart encoding)."""
    ok = all(ch in _GSM7_BASIC or ch in _GSM7_EXTENSION for ch in text)
    return "GSM-7" if ok else "UCS-2"


def segments(text: str) -> int:
    """How many SMS segments ``text`` takes, as Twilio counts them.

    GSM-7: 160 septets in one segment, else 153 per segment (extension-table
    characters take 2 and are never split across segments).  UCS-2: 70 UTF-16
    code units in one segment, else 67 per segment (surrogate pairs are never
    split).  An empty body is one segment.
    """
    if encoding(text) == "GSM-7":
        units = [2 if ch in _GSM7_EXTENSION else 1 for ch in text]
        single, multi = 160, 153
    else:
        units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        single, multi = 70, 67
    if sum(units) <= single:
        return 1
    count, used = 1, 0
    for size in units:
        if used + size > multi:
            count, used = count + 1, 0
        used += size
    return count


# -- recorded calls ---------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One message the fake accepted (answered 2xx to).

    ``params`` are the form fields as posted (a repeated field such as
    ``MediaUrl`` is a list); ``content_variables`` is ``ContentVariables``
    decoded from JSON.  ``at`` is ``time.monotonic()`` on arrival.  ``status``
    is what the create answered (``queued`` or ``accepted``); the resource's
    current state is :meth:`FakeTwilio.message`.
    """

    to: str
    from_: str | None
    body: str | None
    content_sid: str | None
    content_variables: dict[str, Any] | None
    status_callback: str | None
    sid: str
    params: Params
    at: float
    messaging_service_sid: str | None = None
    media_urls: tuple[str, ...] = ()
    status: str = "queued"
    num_segments: int = 1

    @property
    def channel(self) -> str:
        """``"whatsapp"`` for ``whatsapp:`` addresses, else ``"sms"``."""
        return _channel(self.to)


@dataclass(frozen=True)
class ApiCall:
    """One request the fake answered, failed ones included."""

    method: str
    path: str
    params: Params
    status: int
    at: float
    response: JSONDict = field(default_factory=dict, repr=False, compare=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def code(self) -> int | None:
        """The Twilio error code answered, if any."""
        code = self.response.get("code") if not self.ok else None
        return code if isinstance(code, int) else None

    @property
    def to(self) -> str | None:
        value = self.params.get("To")
        return value if isinstance(value, str) else None


@dataclass
class _Fault:
    status: int
    code: int | None
    message: str | None
    times: int
    to: str | None


def _channel(address: str) -> str:
    prefix, sep, _ = address.partition(":")
    return prefix.lower() if sep else "sms"


def _bare(address: str) -> str:
    return address.partition(":")[2] if ":" in address else address


def _matches(address: str | None, wanted: str) -> bool:
    if address is None:
        return False
    return address == wanted or (":" not in wanted and _bare(address) == wanted)


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment)  # "Thu, 24 Aug 2023 05:01:45 +0000"


_E164 = re.compile(r"\+[1-9]\d{6,14}")
_ACCOUNT = re.compile(rf"/{API_VERSION}/Accounts/([^/]+)\.json")
_MESSAGES = re.compile(rf"/{API_VERSION}/Accounts/([^/]+)/Messages\.json")
_MESSAGE = re.compile(rf"/{API_VERSION}/Accounts/([^/]+)/Messages/([^/]+)\.json")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


# -- the server ---------------------------------------------------------------------


class FakeTwilio(LocalServer):
    """A local Twilio Messages API (see the module docstring).

    ``window_errors`` decides how a freeform WhatsApp message into a closed
    24-hour window fails: ``"sync"`` answers 400 with code 63016 (what this
    fake was asked to model); ``"deferred"`` accepts it (201, ``queued``) and
    the stored resource becomes ``failed`` with ``error_code`` 63016 — the way
    Twilio reports it in status callbacks.
    """

    name = "FakeTwilio"
    methods = ("GET", "POST", "DELETE")

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        window_errors: Literal["sync", "deferred"] = "sync",
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._default_window_errors = window_errors
        super().__init__()
        self._lock = threading.RLock()
        self._reset_state()

    def app_env(self, sms_from: str = "+254711000000") -> dict[str, str]:
        """The app's settings (environment names) to reach this fake and send SMS from
        ``sms_from``; callers add rates, WhatsApp and the rest."""
        return {
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_SMS_FROM": sms_from,
            "TWILIO_API_URL": self.url,
        }

    # -- lifecycle ----------------------------------------------------------------

    def _reset_state(self) -> None:
        with self._lock:
            self._messages: list[Sent] = []
            self._calls: list[ApiCall] = []
            self._resources: dict[str, JSONDict] = {}
            self._faults: list[_Fault] = []
            self._unsubscribed: set[str] = set()
            self._closed_windows: set[str] = set()
            self._templates: dict[str, str] = {}
            self._delay = 0.0
            self.window_errors = self._default_window_errors
            self.account_status = "active"  # or "suspended", "closed"
            self.internal_errors: list[BaseException] = []

    def reset(self) -> None:
        """Forget messages, requests, faults, unsubscriptions, closed windows,
        templates and delays."""
        self._reset_state()

    # -- inspection ---------------------------------------------------------------

    @property
    def messages(self) -> list[Sent]:
        """Every message accepted so far, oldest first (a copy)."""
        with self._lock:
            return list(self._messages)

    @property
    def requests(self) -> list[ApiCall]:
        """Every request answered so far, failed ones included (a copy)."""
        with self._lock:
            return list(self._calls)

    def to(self, number: str) -> list[Sent]:
        """Messages accepted for ``number`` (see the module docstring on prefixes)."""
        with self._lock:
            return [sent for sent in self._messages if _matches(sent.to, number)]

    def bodies(self, to: str) -> list[str]:
        """The bodies of the messages accepted for ``to`` (``""`` when none)."""
        return [sent.body or "" for sent in self.to(to)]

    def message(self, sid: str) -> JSONDict:
        """The Message resource as a GET would answer it now."""
        with self._lock:
            return copy.deepcopy(self._resources[sid])

    def summary(self) -> str:
        with self._lock:
            calls = list(self._calls)
        if not calls:
            return "  (no requests)"
        origin = calls[0].at
        lines = []
        for call in calls:
            shown = json.dumps(call.params, ensure_ascii=False)
            if len(shown) > 200:
                shown = shown[:197] + "..."
            code = f" code={call.code}" if call.code is not None else ""
            lines.append(
                f"  +{call.at - origin:7.3f}s {call.status}{code} {call.method} {call.path} {shown}"
            )
        return "\n".join(lines)

    # -- steering -----------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        code: int | None = None,
        message: str | None = None,
        times: int = 1,
        to: str | None = None,
    ) -> None:
        """Answer the next ``times`` message creates (to ``to`` if given) with
        this error instead of handling them.  Auth is still checked first.

        ``code`` defaults to 20429 for 429 (and 20003/20404 for 401/404);
        ``message`` defaults to Twilio's wording for the code (:data:`ERROR_MESSAGES`).
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(_Fault(status, code, message, times, to))

    def unsubscribe(self, number: str) -> None:
        """The recipient texted STOP: every send to it answers 400/21610."""
        with self._lock:
            self._unsubscribed.add(number)

    def resubscribe(self, number: str) -> None:
        with self._lock:
            self._unsubscribed.discard(number)

    def whatsapp_window(self, number: str, open: bool) -> None:
        """Open or close the 24-hour customer-service window of a WhatsApp user
        (``"+258..."`` or ``"whatsapp:+258..."``).  Windows are open by default.

        While closed, a freeform message (no ``ContentSid``) to ``whatsapp:number``
        fails with 63016 (see ``window_errors``); templates are accepted."""
        with self._lock:
            if open:
                self._closed_windows.discard(_bare(number))
            else:
                self._closed_windows.add(_bare(number))

    def template(self, content_sid: str, text: str) -> None:
        """Give a Content template a body (``{{1}}``-style placeholders are filled
        from ``ContentVariables``); unknown templates render as ``""``."""
        with self._lock:
            self._templates[content_sid] = text

    def delay(self, seconds: float) -> None:
        """Answer every request ``seconds`` later (for client timeouts)."""
        with self._lock:
            self._delay = seconds

    def set_status(
        self,
        sid: str,
        status: str,
        *,
        error_code: int | None = None,
        error_message: str | None = None,
    ) -> dict[str, str]:
        """Move message ``sid`` to ``status`` (``sent``, ``delivered``, ``read``,
        ``undelivered``, ``failed`` ...) and return the form fields Twilio would
        post to its ``StatusCallback`` (sign them with :func:`signed`)."""
        now = datetime.now(UTC)
        with self._lock:
            resource = self._resources[sid]
            resource["status"] = status
            resource["date_updated"] = _rfc2822(now)
            if status in ("sent", "delivered", "read", "undelivered") and not resource.get(
                "date_sent"
            ):
                resource["date_sent"] = _rfc2822(now)
            resource["error_code"] = error_code
            if error_code is not None and error_message is None:
                error_message = ERROR_MESSAGES.get(error_code)
            resource["error_message"] = error_message
            return self._status_params(resource)

    def _status_params(self, resource: JSONDict) -> dict[str, str]:
        to, from_ = resource["to"], resource["from"]
        params: dict[str, str] = {}
        if _channel(to) == "whatsapp":
            params["ChannelPrefix"] = "whatsapp"
            params["ChannelInstallSid"] = "XE" + resource["sid"][2:]
            params["ChannelToAddress"] = _bare(to)
            params["StructuredMessage"] = "false"
        if resource.get("error_code") is not None:
            params["ErrorCode"] = str(resource["error_code"])
        params.update(
            {
                "SmsSid": resource["sid"],
                "SmsStatus": resource["status"],
                "MessageStatus": resource["status"],
                "To": to,
            }
        )
        if resource.get("messaging_service_sid"):
            params["MessagingServiceSid"] = resource["messaging_service_sid"]
        params.update(
            {
                "MessageSid": resource["sid"],
                "AccountSid": resource["account_sid"],
                "From": from_ or "",
                "ApiVersion": API_VERSION,
            }
        )
        return params

    # -- HTTP ---------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        arrived = time.monotonic()
        path = request.url.path
        params: Params = {}
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        extra_headers: dict[str, str] = {}
        try:
            params = _form(request.url.query)
            if request.method == "POST":
                params.update(_form((await request.body()).decode("utf-8")))
            with self._lock:
                pause = self._delay
            if pause > 0:
                await asyncio.sleep(pause)
            if (refusal := await self._refused_by_outage()) is not None:
                raise TwilioApiError(refusal, code=None)
            with self._lock:
                status, body = self._route(request, path, params)
        except TwilioApiError as error:
            status, body, extra_headers = error.status, error.body(), error.headers
        except Exception as error:
            with self._lock:
                self.internal_errors.append(error)
            status, body = 500, TwilioApiError(500, 20500).body()
        with self._lock:
            self._calls.append(
                ApiCall(request.method, path, params, status, arrived, body, headers)
            )
        response_headers = {"Twilio-Request-Id": _sid("RQ"), **extra_headers}
        return JSONResponse(body, status_code=status, headers=response_headers)

    def _route(self, request: Request, path: str, params: Params) -> tuple[int, JSONDict]:
        self._authenticate(request)
        many = _MESSAGES.fullmatch(path)
        one = _MESSAGE.fullmatch(path)
        account_path = _ACCOUNT.fullmatch(path)
        matched = many or one or account_path
        account = matched.group(1) if matched else None
        if account != self.account_sid:
            raise TwilioApiError(404, NOT_FOUND, ERROR_MESSAGES[NOT_FOUND].format(path))
        if account_path and request.method == "GET":
            return 200, self._account()
        if many and request.method == "POST":
            return 201, self._create(params)
        if many and request.method == "GET":
            return 200, self._list(path, params)
        if one and request.method == "GET":
            sid = one.group(2)
            if sid not in self._resources:
                raise TwilioApiError(404, NOT_FOUND, ERROR_MESSAGES[NOT_FOUND].format(path))
            return 200, copy.deepcopy(self._resources[sid])
        raise TwilioApiError(405, 20004, "Method not allowed")

    def _authenticate(self, request: Request) -> None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        user = password = None
        if scheme.lower() == "basic":
            with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError):
                user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        if user != self.account_sid or password != self.auth_token:
            raise TwilioApiError(
                401,
                AUTHENTICATE,
                detail="Your AccountSid or AuthToken was incorrect.",
                headers={"WWW-Authenticate": 'Basic realm="Twilio API"'},
            )

    def _account(self) -> JSONDict:
        created = _rfc2822(datetime(2024, 1, 8, 9, 30, tzinfo=UTC))
        base = f"/{API_VERSION}/Accounts/{self.account_sid}"
        return {
            "sid": self.account_sid,
            "owner_account_sid": self.account_sid,
            "friendly_name": "Baraza test account",
            "status": self.account_status,
            "type": "Full",
            "auth_token": self.auth_token,
            "date_created": created,
            "date_updated": created,
            "uri": f"{base}.json",
            "subresource_uris": {"messages": f"{base}/Messages.json"},
        }

    def _inject(self, to: str | None) -> None:
        for fault in self._faults:
            if fault.to is None or _matches(to, fault.to):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                raise TwilioApiError(fault.status, fault.code, fault.message)

    def _create(self, params: Params) -> JSONDict:
        arrived = time.monotonic()
        to = _single(params, "To")
        self._inject(to)
        from_ = _single(params, "From")
        service = _single(params, "MessagingServiceSid")
        body = _single(params, "Body")
        content_sid = _single(params, "ContentSid")
        media = tuple(_many(params, "MediaUrl"))
        raw_variables = _single(params, "ContentVariables")

        if not to:
            raise TwilioApiError(400, TO_REQUIRED)
        if not from_ and not service:
            raise TwilioApiError(400, FROM_REQUIRED)
        if not body and not media and not content_sid:
            raise TwilioApiError(400, BODY_REQUIRED)
        if body and len(body) > 1600:
            raise TwilioApiError(400, BODY_TOO_LONG)
        variables: dict[str, Any] | None = None
        if raw_variables is not None:
            try:
                decoded = json.loads(raw_variables)
            except ValueError:
                decoded = None
            if not isinstance(decoded, dict):
                raise TwilioApiError(400, CONTENT_VARIABLES_INVALID)
            variables = decoded
        channel = _channel(to)
        if channel not in ("sms", "whatsapp") or not _E164.fullmatch(_bare(to)):
            raise TwilioApiError(400, INVALID_TO, ERROR_MESSAGES[INVALID_TO].format(to))
        if from_ and _channel(from_) != channel:
            raise TwilioApiError(400, CHANNEL_MISMATCH)
        if any(_matches(to, number) for number in self._unsubscribed):
            raise TwilioApiError(400, UNSUBSCRIBED)
        window_closed = (
            channel == "whatsapp" and not content_sid and _bare(to) in self._closed_windows
        )
        if window_closed and self.window_errors == "sync":
            raise TwilioApiError(400, OUTSIDE_WINDOW)

        if content_sid and not body:
            body = _render(self._templates.get(content_sid, ""), variables or {})
        sid = _sid("MM" if media else "SM")
        now = _rfc2822(datetime.now(UTC))
        accepted = bool(service) and not from_
        if accepted:
            num_segments = 0
        elif channel == "whatsapp":
            num_segments = 1
        else:
            num_segments = segments(body or "")
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json"
        resource: JSONDict = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body or "",
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_ or None,
            "messaging_service_sid": service or None,
            "num_media": str(len(media)),
            "num_segments": str(num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if accepted else "queued",
            "subresource_uris": {"media": uri.removesuffix(".json") + "/Media.json"},
            "to": to,
            "uri": uri,
        }
        answer = copy.deepcopy(resource)
        if window_closed:  # deferred: accepted now, failed by the time anyone looks
            resource.update(
                status="failed",
                error_code=OUTSIDE_WINDOW,
                error_message=ERROR_MESSAGES[OUTSIDE_WINDOW],
            )
        self._resources[sid] = resource
        self._messages.append(
            Sent(
                to=to,
                from_=from_ or None,
                body=body,
                content_sid=content_sid,
                content_variables=variables,
                status_callback=_single(params, "StatusCallback"),
                sid=sid,
                params=copy.deepcopy(params),
                at=arrived,
                messaging_service_sid=service or None,
                media_urls=media,
                status=answer["status"],
                num_segments=num_segments,
            )
        )
        return answer

    def _list(self, path: str, params: Params) -> JSONDict:
        to, from_ = _single(params, "To"), _single(params, "From")
        try:
            size = max(1, min(int(_single(params, "PageSize") or 50), 1000))
            page = max(0, int(_single(params, "Page") or 0))
        except ValueError:
            raise TwilioApiError(400, 20001, "Invalid paging parameters") from None
        found = [
            copy.deepcopy(resource)
            for resource in reversed(self._resources.values())
            if (to is None or resource["to"] == to) and (from_ is None or resource["from"] == from_)
        ]
        chunk = found[page * size : (page + 1) * size]
        filters = {k: v for k, v in (("To", to), ("From", from_)) if v is not None}

        def uri(number: int) -> str:
            return f"{path}?{urlencode({**filters, 'PageSize': size, 'Page': number})}"

        more = (page + 1) * size < len(found)
        return {
            "end": page * size + max(len(chunk) - 1, 0),
            "first_page_uri": uri(0),
            "messages": chunk,
            "next_page_uri": uri(page + 1) if more else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
            "start": page * size,
            "uri": uri(page),
        }


def _form(encoded: str) -> Params:
    params: Params = {}
    for key, value in parse_qsl(encoded, keep_blank_values=True):
        if key in params:
            existing = params[key]
            params[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            params[key] = value
    return params


def _single(params: Params, key: str) -> str | None:
    value = params.get(key)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _many(params: Params, key: str) -> list[str]:
    value = params.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _render(text: str, variables: dict[str, Any]) -> str:
    return _PLACEHOLDER.sub(lambda m: str(variables.get(m.group(1), m.group(0))), text)


# -- the real client, pointed at the fake ---------------------------------------------


# api.twilio.com, or api.{edge}.{region}.twilio.com when an edge/region is set
# (Client reads TWILIO_EDGE / TWILIO_REGION from the environment by default).
_API_HOST = re.compile(r"https://api(?:\.[A-Za-z0-9-]+)*\.twilio\.com(?=/|$)")


def _redirect(url: str, root: str) -> str:
    return _API_HOST.sub(root, url, count=1) if _API_HOST.match(url) else url


class RedirectingHttpClient(TwilioHttpClient):
    """``TwilioHttpClient`` that sends ``https://api.twilio.com/...`` (and
    ``https://api.{edge}.{region}.twilio.com/...``) to ``api_root``."""

    def __init__(self, api_root: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_root = api_root.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        return super().request(method, _redirect(url, self.api_root), *args, **kwargs)


class AsyncRedirectingHttpClient(AsyncTwilioHttpClient):
    """The aiohttp-based ``AsyncTwilioHttpClient``, redirected the same way."""

    def __init__(self, api_root: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_root = api_root.rstrip("/")

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        return await super().request(method, _redirect(url, self.api_root), *args, **kwargs)


def client_for(
    fake: FakeTwilio, *, auth_token: str | None = None, timeout: float | None = 5.0
) -> Client:
    """A real synchronous ``twilio.rest.Client`` talking to ``fake``
    (``auth_token`` overrides the fake's, to provoke 401s)."""
    http_client = RedirectingHttpClient(fake.url, timeout=timeout)
    token = fake.auth_token if auth_token is None else auth_token
    return Client(fake.account_sid, token, http_client=http_client)


def async_client_for(fake: FakeTwilio, *, timeout: float | None = 5.0) -> Client:
    """A real ``Client`` for ``await client.messages.create_async(...)``.  Call it
    inside the running loop and ``await client.http_client.close()`` when done."""
    http_client = AsyncRedirectingHttpClient(fake.url, timeout=timeout)
    return Client(fake.account_sid, fake.auth_token, http_client=http_client)


# -- inbound webhooks -----------------------------------------------------------------


def signed(
    url: str, params: dict[str, Any], auth_token: str = DEFAULT_AUTH_TOKEN
) -> dict[str, str]:
    """The headers Twilio sends with a webhook POST of ``params`` to ``url``,
    including ``X-Twilio-Signature`` (HMAC-SHA1 over url + sorted params)."""
    signature = RequestValidator(auth_token).compute_signature(url, params)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "TwilioProxy/1.1",
        "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        "X-Twilio-Signature": signature,
    }


def load_params(name: str) -> dict[str, str]:
    """A fresh copy of ``tests/fixtures/twilio/{name}.json``."""
    path = FIXTURES_DIR / (name if name.endswith(".json") else f"{name}.json")
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def fixture_names() -> Iterable[str]:
    return sorted(path.stem for path in FIXTURES_DIR.glob("*.json"))


def _with_new_sid(params: dict[str, str]) -> dict[str, str]:
    sid = _sid("SM")
    for key in ("SmsMessageSid", "SmsSid", "MessageSid"):
        if key in params:
            params[key] = sid
    return params


def inbound_sms(
    body: str, *, from_: str = "+254722000111", to: str = "+254711000000"
) -> dict[str, str]:
    """The fields of an inbound SMS (``sms.json`` with a new sid and this text)."""
    params = _with_new_sid(load_params("sms"))
    params.update(Body=body, From=from_, To=to, NumSegments=str(segments(body)))
    return params


def inbound_whatsapp(
    body: str,
    *,
    from_: str = "whatsapp:+258841234567",
    to: str = "whatsapp:+14155238886",
    profile_name: str = "Ana Machava",
) -> dict[str, str]:
    """The fields of an inbound WhatsApp text (``whatsapp_text.json`` with a new
    sid, this text and sender)."""
    params = _with_new_sid(load_params("whatsapp_text"))
    params.update(Body=body, From=from_, To=to, ProfileName=profile_name, WaId=_bare(from_)[1:])
    return params
