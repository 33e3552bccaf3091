"""A faithful fake of the Telegram Bot API, served over real HTTP on 127.0.0.1.

Point python-telegram-bot (or anything else) at it::

    with FakeTelegram() as fake:
        bot = telegram.Bot(fake.token, base_url=f"{fake.url}/bot",
                           base_file_url=f"{fake.url}/file/bot")

Requests arrive at ``/bot{token}/{method}`` exactly as they would at
api.telegram.org: form-encoded (python-telegram-bot's default), multipart (when a
file is uploaded), JSON, or as a query string.  Every call is recorded as a
:class:`Call`; answers have the shapes of the real API, including its error
bodies, so the client's own error mapping (``RetryAfter``, ``Forbidden``,
``Conflict`` ...) is exercised for real.

The server runs its own event loop in a daemon thread, so it works the same from
synchronous tests, from pytest-asyncio tests, and while the bot under test runs
its own loop.  All state is guarded by one lock; every public method is safe to
call from any thread.

Deliberate simplifications (see the module's tests for what *is* faithful):

* ``parse_mode="HTML"`` is parsed into plain text plus entities; MarkdownV2 and
  Markdown are echoed verbatim without entities.
* Only a handful of entity kinds are auto-detected in sent text (bot commands,
  http(s) URLs, @mentions, #hashtags).
* Webhooks are bookkeeping only: the fake never POSTs updates anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html.parser
import itertools
import json
import math
import re
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.fakes.server import LocalServer

__all__ = [
    "BOT_USERNAME",
    "DEFAULT_CHAT",
    "DEFAULT_TOKEN",
    "DEFAULT_USER",
    "FIXTURES_DIR",
    "Call",
    "FakeTelegram",
    "TelegramApiError",
    "Upload",
    "fixture_names",
    "load_update",
    "text_update",
]

DEFAULT_TOKEN = "123456:TEST-token-abc"
BOT_USERNAME = "baraza_test_bot"
BOT_FIRST_NAME = "Baraza"
FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "telegram"

#: The private user every fixture in ``tests/fixtures/telegram`` talks as.
DEFAULT_USER: dict[str, Any] = {
    "id": 777000111,
    "is_bot": False,
    "first_name": "Amina",
    "last_name": "Wanjiru",
    "username": "amina_w",
    "language_code": "en",
}
#: That user's private chat with the bot.
DEFAULT_CHAT: dict[str, Any] = {
    "id": 777000111,
    "first_name": "Amina",
    "last_name": "Wanjiru",
    "username": "amina_w",
    "type": "private",
}

JSONDict = dict[str, Any]

# -- request decoding -------------------------------------------------------------

# Parameters that are integers in the Bot API.  Form fields are always strings,
# so these are converted when they are (possibly negative) digit strings.
_INT_KEYS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "offset",
        "timeout",
        "limit",
        "message_thread_id",
        "reply_to_message_id",
        "user_id",
        "until_date",
        "cache_time",
        "max_connections",
        "duration",
        "width",
        "height",
        "live_period",
        "heading",
        "proximity_alert_radius",
        "direct_messages_topic_id",
    }
)
_FLOAT_KEYS = frozenset({"latitude", "longitude", "horizontal_accuracy"})
_BOOL_KEYS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "allow_paid_broadcast",
        "drop_pending_updates",
        "show_alert",
        "disable_web_page_preview",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
        "supports_streaming",
        "revoke_messages",
        "only_if_banned",
        "is_personal",
    }
)
# Free-text parameters: never JSON-decoded, even if the text happens to look
# like JSON (a person may well send "[1, 2]").
_TEXT_KEYS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "url",
        "secret_token",
        "ip_address",
        "callback_query_id",
        "inline_message_id",
        "action",
        "language_code",
        "description",
        "short_description",
        "title",
        "name",
        "emoji",
        "address",
        "first_name",
        "last_name",
        "message_effect_id",
        "business_connection_id",
    }
)
_INT_RE = re.compile(r"-?\d+")


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


def _decode_value(key: str, value: Any) -> Any:
    if not isinstance(value, str) or key in _TEXT_KEYS:
        return value
    stripped = value.strip()
    if key in _INT_KEYS and _INT_RE.fullmatch(stripped):
        return int(stripped)
    if key in _FLOAT_KEYS:
        try:
            return float(stripped)
        except ValueError:
            return value
    if key in _BOOL_KEYS and stripped in ("true", "false"):
        return stripped == "true"
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


def decode_params(raw: dict[str, Any]) -> JSONDict:
    """Decode request fields the way the Bot API does (see the module docstring)."""
    return {key: _decode_value(key, value) for key, value in raw.items()}


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser().parsebytes(head + body)
    if not message.is_multipart():
        raise TelegramApiError(400, "Bad Request: can't parse multipart/form-data")
    fields: dict[str, Any] = {}
    for part in message.get_payload():
        if not isinstance(part, Message):
            continue
        name = part.get_param("name", header="content-disposition")
        if name is None:
            continue
        name = collapse_rfc2231_value(name)
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            fields[name] = Upload(filename, part.get_content_type(), data)
        else:
            fields[name] = data.decode("utf-8")
    return fields


# -- errors -----------------------------------------------------------------------

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
BLOCKED = "Forbidden: bot was blocked by the user"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = _DEFAULT_DESCRIPTIONS[409]
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)


class TelegramApiError(Exception):
    """Raise from a handler to answer ``{"ok": false, ...}`` with this status."""

    def __init__(
        self, status: int, description: str | None = None, *, retry_after: int | None = None
    ) -> None:
        self.status = status
        if status == 429 and retry_after is None:
            retry_after = 1
        self.retry_after = retry_after
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(status) or _phrase(status)
        self.description = description
        super().__init__(f"{status} {description}")

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# -- recorded calls ---------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request the fake answered.

    ``at`` is ``time.monotonic()`` when the request arrived (compare calls with
    each other, e.g. to check a back-off); ``status`` is the HTTP status it got
    (200 on success; 499 for a long poll the client abandoned).  ``response`` is
    the JSON body that was sent back.
    """

    method: str
    params: JSONDict
    at: float
    status: int = 200
    response: JSONDict = field(default_factory=dict, repr=False, compare=False)
    encoding: str = field(default="form", repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        value = self.params.get("text")
        return value if isinstance(value, str) else None

    @property
    def result(self) -> Any:
        return self.response.get("result")


@dataclass
class _Fault:
    method: str  # lower-case
    status: int
    times: int
    retry_after: int | None
    description: str | None
    chat_id: int | str | None


# -- text formatting ----------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}


class _HtmlEntities(html.parser.HTMLParser):
    """Telegram's HTML subset → (plain text, entities)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.pos = 0
        self.stack: list[tuple[str, JSONDict | None]] = []
        self.entities: list[JSONDict] = []

    def _fail(self, detail: str) -> None:
        raise TelegramApiError(400, f"Bad Request: can't parse entities: {detail}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        entity: JSONDict | None
        if tag in _SIMPLE_TAGS:
            entity = {"type": _SIMPLE_TAGS[tag]}
            if tag == "code" and self.stack and self.stack[-1][0] == "pre":
                language = attributes.get("class", "")
                pre = self.stack[-1][1]
                if language.startswith("language-") and pre is not None:
                    pre["language"] = language.removeprefix("language-")
                    entity = None
        elif tag == "span" and attributes.get("class") == "tg-spoiler":
            entity = {"type": "spoiler"}
        elif tag == "a":
            href = attributes.get("href", "")
            match = re.fullmatch(r"tg://user\?id=(\d+)", href)
            if match:
                user = {"id": int(match.group(1)), "is_bot": False, "first_name": "User"}
                entity = {"type": "text_mention", "user": user}
            else:
                entity = {"type": "text_link", "url": href}
        elif tag == "blockquote":
            kind = "expandable_blockquote" if "expandable" in attributes else "blockquote"
            entity = {"type": kind}
        elif tag == "tg-emoji":
            entity = {"type": "custom_emoji", "custom_emoji_id": attributes.get("emoji-id", "")}
        else:
            self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
            return
        if entity is not None:
            entity["offset"] = self.pos
        self.stack.append((tag, entity))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            expected = f"</{self.stack[-1][0]}>" if self.stack else "no end tag"
            self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected "{expected}", found "</{tag}>"'
            )
        _, entity = self.stack.pop()
        if entity is not None:
            length = self.pos - entity["offset"]
            if length > 0:
                entity["length"] = length
                self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.pos += utf16_len(data)

    def _byte_offset(self) -> int:
        return len("".join(self.parts).encode("utf-8"))

    def result(self, source: str) -> tuple[str, list[JSONDict]]:
        self.feed(source)
        self.close()
        if self.stack:
            self._fail(f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"')
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), [_entity_in_order(e) for e in ordered]


def _entity_in_order(entity: JSONDict) -> JSONDict:
    ordered = {"offset": entity["offset"], "length": entity["length"], "type": entity["type"]}
    ordered.update({k: v for k, v in entity.items() if k not in ordered})
    return ordered


_AUTO_ENTITIES = (
    ("url", re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'}]")),
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?!\w)")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
)
_OPAQUE = frozenset({"code", "pre", "url", "text_link"})


def _auto_entities(text: str, explicit: list[JSONDict]) -> list[JSONDict]:
    taken = [(e["offset"], e["offset"] + e["length"]) for e in explicit if e["type"] in _OPAQUE]
    found: list[JSONDict] = []
    for kind, pattern in _AUTO_ENTITIES:
        for match in pattern.finditer(text):
            start = utf16_len(text[: match.start()])
            length = utf16_len(match.group(0))
            span = (start, start + length)
            if any(a < span[1] and span[0] < b for a, b in taken):
                continue
            taken.append(span)
            found.append({"offset": start, "length": length, "type": kind})
    return found


def format_text(text: str, parse_mode: Any, entities: Any) -> tuple[str, list[JSONDict]]:
    """What Telegram stores for a sent text: (plain text, entities)."""
    if isinstance(entities, list):
        return text, [e for e in entities if isinstance(e, dict)]
    explicit: list[JSONDict] = []
    if isinstance(parse_mode, str) and parse_mode.lower() == "html":
        text, explicit = _HtmlEntities().result(text)
    merged = explicit + _auto_entities(text, explicit)
    return text, sorted(merged, key=lambda e: (e["offset"], -e["length"]))


# -- update builders --------------------------------------------------------------


def load_update(name: str) -> JSONDict:
    """A fresh copy of ``tests/fixtures/telegram/{name}.json``."""
    path = FIXTURES_DIR / (name if name.endswith(".json") else f"{name}.json")
    data: JSONDict = json.loads(path.read_text(encoding="utf-8"))
    return data


def text_update(
    text: str,
    *,
    user: JSONDict | None = None,
    chat: JSONDict | None = None,
    message_id: int | None = None,
    date: int | None = None,
) -> JSONDict:
    """A ``message`` update as a person would send it (commands get their entity)."""
    sender = copy.deepcopy(user or DEFAULT_USER)
    if chat is None:
        chat = {"id": sender["id"], "first_name": sender.get("first_name", ""), "type": "private"}
        for key in ("last_name", "username"):
            if key in sender:
                chat[key] = sender[key]
    message: JSONDict = {
        "message_id": message_id if message_id is not None else 0,
        "from": sender,
        "chat": copy.deepcopy(chat),
        "date": date if date is not None else int(time.time()),
        "text": text,
    }
    match = re.match(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?", text)
    if match:
        message["entities"] = [
            {"offset": 0, "length": utf16_len(match.group(0)), "type": "bot_command"}
        ]
    return {"message": message}


_MESSAGE_KEYS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
)
# getUpdates' default when allowed_updates is empty or was never given.
_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


def _update_type(update: JSONDict) -> str:
    return next((key for key in update if key != "update_id"), "")


def _is_send(method: str) -> bool:
    lowered = method.lower()
    return (lowered.startswith("send") and lowered != "sendchataction") or lowered in (
        "copymessage",
        "forwardmessage",
        "copymessages",
        "forwardmessages",
    )


def _reaches_chat(method: str) -> bool:
    return _is_send(method) or method.lower() == "sendchataction"


# -- the fake ---------------------------------------------------------------------

Handler = Callable[[JSONDict], Any]


class FakeTelegram(LocalServer):
    """A local Telegram Bot API server (see the module docstring).

    ``strict=True`` also refuses what the real API refuses about the outside
    world: editing/deleting/replying to messages the fake has never seen,
    answering a callback query twice.  By default those are accepted, because
    updates delivered straight to a webhook never pass through the fake.
    """

    name = "FakeTelegram"

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        enforce_limits: bool = False,
        strict: bool = False,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = BOT_FIRST_NAME,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self._default_enforce_limits = enforce_limits
        self.enforce_limits = enforce_limits
        self.strict = strict

        super().__init__()
        self._lock = threading.RLock()
        self._update_ids = itertools.count(1)
        self._last_update_id = 0
        self._stopping = False
        self._waiters: set[asyncio.Event] = set()
        self._poll_generation = 0
        self._custom: dict[str, tuple[str, Handler]] = {}
        self._handlers: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._true,  # served by _get_updates (it long-polls)
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "sendLocation": self._send_location,
                "answerCallbackQuery": self._answer_callback_query,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "deleteMessages": self._delete_messages,
                "sendChatAction": self._send_chat_action,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "close": self._true,
                "logOut": self._true,
            }.items()
        }
        self._reset_state()

    # -- lifecycle ----------------------------------------------------------------

    def _reset_state(self) -> None:
        with self._lock:
            self.calls: list[Call] = []
            self._faults: list[_Fault] = []
            self._blocked: set[int | str] = set()
            self._delay = 0.0
            self._method_delays: dict[str, float] = {}
            self._queue: deque[JSONDict] = deque()
            self._allowed_updates: list[str] = []
            self._webhook: JSONDict = {}
            self._webhook_error: tuple[int, str] | None = None
            self._commands: dict[tuple[str, str], list[JSONDict]] = {}
            self._chats: dict[int | str, JSONDict] = {DEFAULT_CHAT["id"]: dict(DEFAULT_CHAT)}
            self._messages: dict[tuple[int | str, int], JSONDict] = {}
            self._last_message_id: dict[int | str, int] = {}
            self._answered: set[str] = set()
            self._file_ids = itertools.count(1)
            self._sends_global: deque[float] = deque()
            self._sends_by_chat: dict[int | str, deque[float]] = {}
            self.throttled = 0
            self.throttled_by_chat: Counter[int | str] = Counter()
            self.internal_errors: list[BaseException] = []
            self.enforce_limits = self._default_enforce_limits

    def reset(self) -> None:
        """Forget calls, injected faults, blocks, delays, queued updates, webhook,
        commands and messages.  Update ids keep increasing, as they do for real."""
        self._reset_state()

    @property
    def base_url(self) -> str:
        """What to pass as python-telegram-bot's ``base_url``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    def _before_start(self) -> None:
        self._stopping = False

    def _before_stop(self) -> None:
        self._stopping = True
        self._wake_pollers()

    # -- inspection ---------------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        """All calls of one method (any spelling), failed ones included."""
        wanted = method.lower()
        with self._lock:
            return [call for call in self.calls if call.method.lower() == wanted]

    def sent(self, chat_id: int | str | None = None, *, include_failed: bool = False) -> list[Call]:
        """sendMessage calls that were delivered (or all attempts, ``include_failed``)."""
        return [
            call
            for call in self.calls_of("sendMessage")
            if (include_failed or call.ok) and (chat_id is None or call.chat_id == chat_id)
        ]

    def texts(self, chat_id: int | str | None = None) -> list[str]:
        """The text parameter of every delivered sendMessage, as the bot sent it."""
        return [call.text or "" for call in self.sent(chat_id)]

    def messages(self, chat_id: int | str) -> list[JSONDict]:
        """The messages the fake holds for a chat (sent, pushed or edited), by id."""
        with self._lock:
            held = [m for (chat, _), m in self._messages.items() if chat == chat_id]
            return copy.deepcopy(sorted(held, key=lambda m: m["message_id"]))

    @property
    def webhook(self) -> JSONDict:
        """The webhook as last set: url, secret_token, allowed_updates, ... ({} if none)."""
        with self._lock:
            return copy.deepcopy(self._webhook)

    @property
    def pending_updates(self) -> list[JSONDict]:
        with self._lock:
            return copy.deepcopy(list(self._queue))

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        with self._lock:
            return copy.deepcopy(self._commands.get(self._scope_key(scope, language_code), []))

    def summary(self) -> str:
        with self._lock:
            calls = list(self.calls)
        if not calls:
            return "  (no calls)"
        origin = calls[0].at
        lines = []
        for call in calls:
            params = {k: v for k, v in call.params.items() if not isinstance(v, Upload)}
            shown = json.dumps(params, ensure_ascii=False, default=str)
            if len(shown) > 200:
                shown = shown[:197] + "..."
            lines.append(f"  +{call.at - origin:7.3f}s {call.status} {call.method} {shown}")
        return "\n".join(lines)

    # -- steering -----------------------------------------------------------------

    def push_update(self, update: JSONDict) -> JSONDict:
        """Queue an update for getUpdates and return the queued copy.

        ``update_id`` is assigned when missing, and replaced when it is not above
        every id already pushed: ids only increase, as with the real API.  A
        ``message_id`` of 0 (see :func:`text_update`) is replaced by the chat's
        next message id.  Chats and messages in the update become known.
        """
        queued = copy.deepcopy(update)
        with self._lock:
            update_id = queued.get("update_id")
            if not isinstance(update_id, int) or update_id <= self._last_update_id:
                update_id = max(next(self._update_ids), self._last_update_id + 1)
            self._last_update_id = update_id
            queued = {
                "update_id": update_id,
                **{k: v for k, v in queued.items() if k != "update_id"},
            }
            self._learn(queued)
            self._queue.append(queued)
        self._wake_pollers()
        return copy.deepcopy(queued)

    def push_text(self, text: str, **kwargs: Any) -> JSONDict:
        """Queue a text message from :data:`DEFAULT_USER` (see :func:`text_update`)."""
        return self.push_update(text_update(text, **kwargs))

    def note_update(self, update: JSONDict) -> None:
        """Make the chats and messages of an update known without queueing it
        (for updates a test delivers straight to the bot's webhook)."""
        with self._lock:
            self._learn(copy.deepcopy(update))

    def register_chat(self, chat: JSONDict) -> None:
        """Describe a chat (id, type, title/first_name, username) for answers."""
        with self._lock:
            self._chats[chat["id"]] = copy.deepcopy(chat)

    def fail_next(
        self,
        method: str,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id`` if given)
        with this error instead of handling them."""
        with self._lock:
            self._faults.append(
                _Fault(method.lower(), status, times, retry_after, description, chat_id)
            )

    def block(self, chat_id: int | str) -> None:
        """The user blocked the bot: every send to the chat answers 403."""
        with self._lock:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: int | str) -> None:
        with self._lock:
            self._blocked.discard(chat_id)

    def delay(self, seconds: float, method: str | None = None) -> None:
        """Answer every call (or every call of ``method``) ``seconds`` later."""
        with self._lock:
            if method is None:
                self._delay = seconds
            else:
                self._method_delays[method.lower()] = seconds

    def set_webhook_error(self, message: str, *, date: int | None = None) -> None:
        """What getWebhookInfo reports as the last delivery error."""
        with self._lock:
            self._webhook_error = (date if date is not None else int(time.time()), message)

    def set_handler(self, method: str, handler: Handler) -> None:
        """Serve ``method`` with ``handler(params) -> result`` (called under the
        fake's lock; raise :class:`TelegramApiError` to fail)."""
        with self._lock:
            self._custom[method.lower()] = (method, handler)

    # -- HTTP ---------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        arrived = time.monotonic()
        path = request.url.path
        method = path
        params: JSONDict = {}
        encoding = "query"
        try:
            if path.startswith("/file/"):
                method, params = "file", {"path": path}
                raise TelegramApiError(404, "Not Found")
            match = re.fullmatch(r"/bot([^/]*)/([^/]+)", path)
            if match is None:
                raise TelegramApiError(404, "Not Found")
            token, method = match.groups()
            params, encoding = await self._read_params(request)
            if token != self.token:
                raise TelegramApiError(401, "Unauthorized")
            method, handler = self._lookup(method)
            if handler is None:
                raise TelegramApiError(404, "Not Found: method not found")
            with self._lock:
                pause = self._method_delays.get(method.lower(), self._delay)
            if pause > 0:
                await asyncio.sleep(pause)
            if (refusal := await self._refused_by_outage()) is not None:
                raise TelegramApiError(refusal)
            with self._lock:
                self._inject(method, params)
            if method == "getUpdates":
                result = await self._get_updates(params, request)
            else:
                with self._lock:
                    result = handler(params)
                    if isinstance(result, Awaitable):
                        raise TypeError("handlers must be synchronous")
            status, body = 200, {"ok": True, "result": result}
            if isinstance(result, _Described):
                body = {"ok": True, "result": result.result, "description": result.description}
        except TelegramApiError as error:
            status, body = error.status, error.body()
        except _Abandoned:
            status, body = 499, {"ok": False, "error_code": 499, "description": "client went away"}
        except Exception as error:
            with self._lock:
                self.internal_errors.append(error)
            status, body = 500, TelegramApiError(500).body()
        with self._lock:
            self.calls.append(Call(method, params, arrived, status, body, encoding))
        return JSONResponse(body, status_code=status)

    async def _read_params(self, request: Request) -> tuple[JSONDict, str]:
        raw: dict[str, Any] = dict(parse_qsl(request.url.query, keep_blank_values=True))
        encoding = "query"
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        mime = content_type.split(";", 1)[0].strip().lower()
        if body:
            if mime == "application/json":
                encoding = "json"
                try:
                    loaded = json.loads(body)
                except ValueError:
                    raise TelegramApiError(400, "Bad Request: can't parse JSON object") from None
                if not isinstance(loaded, dict):
                    raise TelegramApiError(400, "Bad Request: can't parse JSON object")
                raw.update(loaded)
            elif mime == "multipart/form-data":
                encoding = "multipart"
                raw.update(_parse_multipart(content_type, body))
            else:
                encoding = "form"
                raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        return decode_params(raw), encoding

    def _lookup(self, method: str) -> tuple[str, Handler | None]:
        # Bot API method names are case-insensitive.
        with self._lock:
            found = self._custom.get(method.lower()) or self._handlers.get(method.lower())
        if found is None:
            return method, None
        return found

    def _inject(self, method: str, params: JSONDict) -> None:
        """Injected faults, blocks and flood limits, in that order (lock held)."""
        chat_id = params.get("chat_id")
        for fault in self._faults:
            if fault.method != method.lower() or fault.times <= 0:
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            fault.times -= 1
            self._faults = [f for f in self._faults if f.times > 0]
            raise TelegramApiError(fault.status, fault.description, retry_after=fault.retry_after)
        if _reaches_chat(method) and chat_id in self._blocked:
            raise TelegramApiError(403, BLOCKED)
        if self.enforce_limits and _is_send(method) and chat_id is not None:
            self._check_flood(chat_id)

    def _check_flood(self, chat_id: int | str) -> None:
        now = time.monotonic()
        sends = self._sends_global
        while sends and now - sends[0] >= 1.0:
            sends.popleft()
        per_chat = self._sends_by_chat.setdefault(chat_id, deque())
        private = isinstance(chat_id, int) and chat_id > 0
        window, cap = (1.0, 3) if private else (60.0, 20)
        while per_chat and now - per_chat[0] >= window:
            per_chat.popleft()
        retry_after = 0
        if len(sends) >= 30:
            retry_after = 1
        if len(per_chat) >= cap:
            retry_after = max(retry_after, math.ceil(window - (now - per_chat[0])), 1)
        if retry_after:
            self.throttled += 1
            self.throttled_by_chat[chat_id] += 1
            raise TelegramApiError(429, retry_after=retry_after)
        sends.append(now)
        per_chat.append(now)

    # -- state helpers (lock held) ----------------------------------------------------

    @property
    def bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _learn(self, update: JSONDict) -> None:
        for key in _MESSAGE_KEYS:
            if isinstance(update.get(key), dict):
                self._learn_message(update[key])
        query = update.get("callback_query")
        if isinstance(query, dict) and isinstance(query.get("message"), dict):
            self._learn_message(query["message"])
        for key in ("my_chat_member", "chat_member", "chat_join_request"):
            member = update.get(key)
            if isinstance(member, dict) and isinstance(member.get("chat"), dict):
                self._chats.setdefault(member["chat"]["id"], dict(member["chat"]))

    def _learn_message(self, message: JSONDict) -> None:
        chat = message.get("chat")
        if not isinstance(chat, dict) or "id" not in chat:
            return
        self._chats[chat["id"]] = dict(chat)
        if not message.get("message_id"):
            message["message_id"] = self._next_message_id(chat["id"])
        message_id = message["message_id"]
        last = self._last_message_id.get(chat["id"], 0)
        self._last_message_id[chat["id"]] = max(last, message_id)
        self._messages[(chat["id"], message_id)] = copy.deepcopy(message)

    def _next_message_id(self, chat_id: int | str) -> int:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return message_id

    def _chat(self, params: JSONDict, key: str = "chat_id") -> JSONDict:
        chat_id = params.get(key)
        if chat_id is None or chat_id == "":
            raise TelegramApiError(400, f"Bad Request: {key} is empty")
        if isinstance(chat_id, str):
            for chat in self._chats.values():
                if chat_id.startswith("@") and chat.get("username") == chat_id[1:]:
                    return dict(chat)
            raise TelegramApiError(400, "Bad Request: chat not found")
        if not isinstance(chat_id, int):
            raise TelegramApiError(400, "Bad Request: chat not found")
        if chat_id in self._chats:
            return dict(self._chats[chat_id])
        if chat_id > 0:
            return {"id": chat_id, "first_name": "User", "type": "private"}
        if str(chat_id).startswith("-100"):
            return {"id": chat_id, "title": f"Group {chat_id}", "type": "supergroup"}
        return {
            "id": chat_id,
            "title": f"Group {chat_id}",
            "type": "group",
            "all_members_are_administrators": True,
        }

    def _new_message(self, chat: JSONDict, params: JSONDict, **content: Any) -> JSONDict:
        message: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
        }
        if chat.get("type") == "channel":
            message.pop("from")
            message["sender_chat"] = dict(chat)
        reply = self._reply_target(chat, params)
        if reply is not None:
            message["reply_to_message"] = reply
        message.update({k: v for k, v in content.items() if v is not None and v != []})
        markup = self._checked_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" in markup:
            # Only inline keyboards are part of a Message; reply keyboards aren't echoed.
            message["reply_markup"] = markup
        self._messages[(chat["id"], message["message_id"])] = copy.deepcopy(message)
        return message

    def _reply_target(self, chat: JSONDict, params: JSONDict) -> JSONDict | None:
        reply_parameters = params.get("reply_parameters")
        message_id = params.get("reply_to_message_id")
        allow = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply_parameters, dict):
            message_id = reply_parameters.get("message_id")
            allow = allow or bool(reply_parameters.get("allow_sending_without_reply"))
        if not isinstance(message_id, int):
            return None
        target = self._messages.get((chat["id"], message_id))
        if target is None:
            if self.strict and not allow:
                raise TelegramApiError(400, "Bad Request: message to be replied not found")
            return None
        target = copy.deepcopy(target)
        target.pop("reply_to_message", None)
        return target

    def _checked_markup(self, markup: Any) -> JSONDict | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise TelegramApiError(
                400, "Bad Request: can't parse reply keyboard markup JSON object"
            )
        rows = markup.get("inline_keyboard")
        if rows is not None:
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise TelegramApiError(
                    400, "Bad Request: can't parse reply keyboard markup JSON object"
                )
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or "text" not in button:
                        raise TelegramApiError(
                            400, "Bad Request: can't parse inline keyboard button: Text is empty"
                        )
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                        raise TelegramApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return copy.deepcopy(markup)

    def _text(self, params: JSONDict, key: str = "text") -> tuple[str, list[JSONDict]]:
        raw = params.get(key)
        if raw is None or raw == "":
            raise TelegramApiError(400, "Bad Request: message text is empty")
        text, entities = format_text(str(raw), params.get("parse_mode"), params.get("entities"))
        if not text.strip():
            raise TelegramApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > 4096:
            raise TelegramApiError(400, "Bad Request: message is too long")
        return text, entities

    def _caption(self, params: JSONDict) -> tuple[str | None, list[JSONDict]]:
        raw = params.get("caption")
        if raw is None or raw == "":
            return None, []
        text, entities = format_text(
            str(raw), params.get("parse_mode"), params.get("caption_entities")
        )
        if utf16_len(text) > 1024:
            raise TelegramApiError(400, "Bad Request: message caption is too long")
        return text, entities

    def _file(self, prefix: str) -> JSONDict:
        number = next(self._file_ids)
        body = secrets.token_urlsafe(48)[:56]
        return {
            "file_id": f"{prefix}AxkBAAI{number:04d}{body}",
            "file_unique_id": f"AQAD{secrets.token_urlsafe(9)[:12]}",
        }

    def _wake_pollers(self) -> None:
        loop = self._loop
        with self._lock:
            waiters = list(self._waiters)
        if loop is None or loop.is_closed():
            return
        for event in waiters:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    @staticmethod
    def _scope_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    # -- methods --------------------------------------------------------------------

    def _true(self, params: JSONDict) -> bool:
        return True

    def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params)
        text, entities = self._text(params)
        return self._new_message(chat, params, text=text, entities=entities)

    def _send_photo(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params)
        photo = params.get("photo")
        if photo is None or photo == "":
            raise TelegramApiError(400, "Bad Request: there is no photo in the request")
        size = photo.size if isinstance(photo, Upload) else 120_000
        ident = self._file("AgACAgQAA")
        sizes = []
        for index, (width, height) in enumerate(((90, 67), (320, 240), (800, 600))):
            sizes.append(
                {
                    "file_id": f"{ident['file_id']}{index}",
                    "file_unique_id": f"{ident['file_unique_id']}{index}",
                    "file_size": max(1, size * width // 800),
                    "width": width,
                    "height": height,
                }
            )
        caption, entities = self._caption(params)
        return self._new_message(
            chat, params, photo=sizes, caption=caption, caption_entities=entities
        )

    def _send_document(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params)
        document = params.get("document")
        if document is None or document == "":
            raise TelegramApiError(400, "Bad Request: there is no document in the request")
        info: JSONDict = {}
        if isinstance(document, Upload):
            if document.filename:
                info["file_name"] = document.filename
            if document.content_type:
                info["mime_type"] = document.content_type
        info.update(self._file("BQACAgQAA"))
        info["file_size"] = document.size if isinstance(document, Upload) else 1024
        caption, entities = self._caption(params)
        return self._new_message(
            chat, params, document=info, caption=caption, caption_entities=entities
        )

    def _send_location(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params)
        latitude, longitude = params.get("latitude"), params.get("longitude")
        if not isinstance(latitude, float) or not isinstance(longitude, float):
            raise TelegramApiError(400, "Bad Request: wrong latitude or longitude")
        return self._new_message(
            chat, params, location={"latitude": latitude, "longitude": longitude}
        )

    def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = params.get("callback_query_id")
        if not query_id:
            raise TelegramApiError(400, "Bad Request: QUERY_ID_INVALID")
        if self.strict and query_id in self._answered:
            raise TelegramApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._answered.add(str(query_id))
        return True

    def _editable(self, params: JSONDict) -> tuple[JSONDict, JSONDict | None]:
        chat = self._chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise TelegramApiError(400, "Bad Request: message identifier is not specified")
        existing = self._messages.get((chat["id"], message_id))
        if existing is None and self.strict:
            raise TelegramApiError(400, "Bad Request: message to edit not found")
        if existing is not None and existing.get("from", {}).get("id", self.bot_id) != self.bot_id:
            raise TelegramApiError(400, "Bad Request: message can't be edited")
        return chat, copy.deepcopy(existing)

    def _store_edit(
        self, chat: JSONDict, params: JSONDict, existing: JSONDict | None, **changes: Any
    ) -> JSONDict:
        message = existing or {
            "message_id": params["message_id"],
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
        }
        for key, value in changes.items():
            if value is None or value == []:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(time.time())
        self._messages[(chat["id"], message["message_id"])] = copy.deepcopy(message)
        return message

    def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        text, entities = self._text(params)
        markup = self._checked_markup(params.get("reply_markup"))
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        if params.get("inline_message_id"):
            return True
        chat, existing = self._editable(params)
        if existing is not None:
            if "text" not in existing:
                raise TelegramApiError(400, "Bad Request: there is no text in the message to edit")
            same = (
                existing.get("text") == text
                and existing.get("entities", []) == entities
                and existing.get("reply_markup") == inline
            )
            if same:
                raise TelegramApiError(400, NOT_MODIFIED)
        return self._store_edit(
            chat, params, existing, text=text, entities=entities, reply_markup=inline
        )

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        markup = self._checked_markup(params.get("reply_markup"))
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        if params.get("inline_message_id"):
            return True
        chat, existing = self._editable(params)
        if existing is not None and existing.get("reply_markup") == inline:
            raise TelegramApiError(400, NOT_MODIFIED)
        return self._store_edit(chat, params, existing, reply_markup=inline)

    def _delete_message(self, params: JSONDict) -> bool:
        chat = self._chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise TelegramApiError(400, "Bad Request: message identifier is not specified")
        removed = self._messages.pop((chat["id"], message_id), None)
        if removed is None and self.strict:
            raise TelegramApiError(400, "Bad Request: message to delete not found")
        return True

    def _delete_messages(self, params: JSONDict) -> bool:
        chat = self._chat(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise TelegramApiError(400, "Bad Request: message identifiers are not specified")
        for message_id in ids:
            self._messages.pop((chat["id"], message_id), None)
        return True

    def _send_chat_action(self, params: JSONDict) -> bool:
        self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise TelegramApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _set_webhook(self, params: JSONDict) -> _Described:
        url = params.get("url", "")
        if not isinstance(url, str):
            raise TelegramApiError(400, "Bad Request: bad webhook: invalid URL")
        if params.get("drop_pending_updates"):
            self._queue.clear()
        if url == "":
            was_set = bool(self._webhook)
            self._webhook = {}
            return _Described(
                True, "Webhook was deleted" if was_set else "Webhook is already deleted"
            )
        if not url.lower().startswith("https://"):
            raise TelegramApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        previous = dict(self._webhook)
        self._webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
            "drop_pending_updates": bool(params.get("drop_pending_updates")),
            "max_connections": params.get("max_connections", 40),
            "ip_address": params.get("ip_address"),
            "has_custom_certificate": isinstance(params.get("certificate"), Upload),
        }
        self._webhook_error = None if previous.get("url") != url else self._webhook_error
        same = previous == self._webhook
        return _Described(True, "Webhook is already set" if same else "Webhook was set")

    def _delete_webhook(self, params: JSONDict) -> _Described:
        if params.get("drop_pending_updates"):
            self._queue.clear()
        was_set = bool(self._webhook)
        self._webhook = {}
        return _Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        hook = self._webhook
        info: JSONDict = {
            "url": hook.get("url", ""),
            "has_custom_certificate": bool(hook.get("has_custom_certificate")),
            "pending_update_count": len(self._queue),
        }
        if hook:
            if hook.get("ip_address"):
                info["ip_address"] = hook["ip_address"]
            if self._webhook_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
            info["max_connections"] = hook.get("max_connections") or 40
            if hook.get("allowed_updates"):
                info["allowed_updates"] = hook["allowed_updates"]
        return info

    def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise TelegramApiError(400, "Bad Request: commands not found")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise TelegramApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise TelegramApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope_key(params.get("scope"), params.get("language_code"))
        stored = [{"command": c["command"], "description": c["description"]} for c in commands]
        if stored:
            self._commands[key] = stored
        else:
            self._commands.pop(key, None)
        return True

    def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        key = self._scope_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    def _delete_my_commands(self, params: JSONDict) -> bool:
        key = self._scope_key(params.get("scope"), params.get("language_code"))
        self._commands.pop(key, None)
        return True

    # -- getUpdates -------------------------------------------------------------------

    async def _get_updates(self, params: JSONDict, request: Request) -> list[JSONDict]:
        with self._lock:
            if self._webhook:
                raise TelegramApiError(409, WEBHOOK_CONFLICT)
            limit = params.get("limit", 100)
            limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
            timeout = params.get("timeout", 0)
            timeout = max(timeout, 0) if isinstance(timeout, int | float) else 0
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = [str(kind) for kind in allowed]
            self._confirm(params.get("offset"))
            self._poll_generation += 1
            generation = self._poll_generation
        # An older long poll still waiting is terminated by this one.
        self._wake_pollers()
        deadline = time.monotonic() + timeout
        while True:
            event = asyncio.Event()
            with self._lock:
                if generation != self._poll_generation:
                    raise TelegramApiError(409, POLL_CONFLICT)
                batch = self._take(limit)
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or self._stopping:
                    return batch
                self._waiters.add(event)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), min(remaining, 0.25))
                # Before anything else: a client that gave up (cancelled its poll)
                # must not be counted as a 409 when its successor arrives.
                if await request.is_disconnected():
                    raise _Abandoned
            finally:
                with self._lock:
                    self._waiters.discard(event)

    def _confirm(self, offset: Any) -> None:
        if not isinstance(offset, int) or offset == 0:
            return
        if offset > 0:
            while self._queue and self._queue[0]["update_id"] < offset:
                self._queue.popleft()
        else:
            while len(self._queue) > -offset:
                self._queue.popleft()

    def _take(self, limit: int) -> list[JSONDict]:
        allowed = set(self._allowed_updates)
        kept: deque[JSONDict] = deque()
        for update in self._queue:
            kind = _update_type(update)
            wanted = kind in allowed if allowed else kind not in _NOT_BY_DEFAULT
            if wanted:  # the real API never stores updates of types not asked for
                kept.append(update)
        self._queue = kept
        return copy.deepcopy(list(itertools.islice(kept, limit)))


@dataclass(frozen=True)
class _Described:
    """A success that also carries a top-level ``description`` (setWebhook etc.)."""

    result: Any
    description: str


class _Abandoned(Exception):
    """The client closed the connection during a long poll."""


def fixture_names() -> Iterable[str]:
    return sorted(path.stem for path in FIXTURES_DIR.glob("*.json"))
